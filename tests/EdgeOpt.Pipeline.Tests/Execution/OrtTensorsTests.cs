using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;
using EdgeOpt.TestKit;

namespace EdgeOpt.Pipeline.Tests.Execution;

public class OrtTensorsTests
{
    private const int Seed = 7;
    private const long Opset = 21;
    private const string SequenceOpType = "SequenceConstruct";

    /// <summary>The numeric and bool element types ONNX Runtime's CPU tensors hold and the IR names alike.</summary>
    private static readonly TensorDataType[] NumericTypes =
    [
        TensorDataType.Float, TensorDataType.Double, TensorDataType.Float16, TensorDataType.BFloat16,
        TensorDataType.Int8, TensorDataType.Int16, TensorDataType.Int32, TensorDataType.Int64,
        TensorDataType.UInt8, TensorDataType.UInt16, TensorDataType.UInt32, TensorDataType.UInt64,
        TensorDataType.Bool,
    ];

    /// <summary>A matrix, a scalar (rank 0) and an empty tensor (a zero dimension).</summary>
    private static readonly long[][] Shapes = [[2, 3], [], [0, 3]];

    private static readonly string[] Words = ["", "edge", "größe", "模型", "✓"];

    public static IEnumerable<TestCaseData> NumericCases() =>
        from type in NumericTypes
        from shape in Shapes
        select new TestCaseData(type, shape).SetArgDisplayNames(type.ToString(), $"[{string.Join(",", shape)}]");

    public static IEnumerable<TestCaseData> StringShapes() =>
        Shapes.Select(s => new TestCaseData((object)s).SetArgDisplayNames($"[{string.Join(",", s)}]"));

    [TestCaseSource(nameof(NumericCases))]
    public void ToOrtValue_NumericTensor_HasTheTypeShapeAndBytes(TensorDataType type, long[] shape)
    {
        var tensor = Numeric(type, shape);

        using var value = OrtTensors.ToOrtValue(ExecutionTestKit.Library, tensor);

        Assert.That((int)value.ElementType, Is.EqualTo((int)type), "element type");
        Assert.That(value.Shape, Is.EqualTo(shape), "shape");
        Assert.That(value.GetTensorBytes().ToArray(), Is.EqualTo(tensor.RawData.ToArray()), "bytes");
    }

    [TestCaseSource(nameof(NumericCases))]
    public void ToTensor_OfToOrtValue_RoundTripsTheNumericTensor(TensorDataType type, long[] shape)
    {
        var tensor = Numeric(type, shape);
        using var value = OrtTensors.ToOrtValue(ExecutionTestKit.Library, tensor);

        var back = OrtTensors.ToTensor(value, tensor.Name);

        AssertSame(back, tensor);
    }

    [TestCaseSource(nameof(StringShapes))]
    public void ToTensor_OfToOrtValue_RoundTripsTheStringTensor(long[] shape)
    {
        var tensor = Strings(shape);
        using var value = OrtTensors.ToOrtValue(ExecutionTestKit.Library, tensor);

        var back = OrtTensors.ToTensor(value, tensor.Name);

        Assert.That(value.ElementType, Is.EqualTo(OnnxElementType.String), "element type inside ONNX Runtime");
        AssertSame(back, tensor);
    }

    /// <summary>Through a session, so ONNX Runtime itself reads and writes the values (not only the binding's copies).</summary>
    [TestCaseSource(nameof(NumericCases))]
    public void Run_IdentityModel_ReturnsTheNumericTensorUnchanged(TensorDataType type, long[] shape)
    {
        var tensor = Numeric(type, shape);

        var output = RunIdentity(tensor);

        AssertSame(output, tensor);
    }

    [TestCaseSource(nameof(StringShapes))]
    public void Run_IdentityModel_ReturnsTheStringTensorUnchanged(long[] shape)
    {
        var tensor = Strings(shape);

        var output = RunIdentity(tensor);

        AssertSame(output, tensor);
    }

    [Test]
    public void ToTensor_SequenceValue_ThrowsNotSupportedNamingTheOutput()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 2);
        var node = b.Graph.AddNode(SequenceOpType, [x], ["seq"]);
        node.Output().Type = new SequenceType(TensorType.Of(TensorDataType.Float, 2));
        b.Outputs(node.Output());
        using var runner = OrtModelRunner.Open(b.Build(Opset), ExecutionTestKit.Settings());
        var feeds = new Dictionary<string, Tensor> { ["x"] = Tensor.Create("x", [2], new[] { 1f, 2f }) };
        using var outputs = runner.RunNative(feeds, runner.OutputNames);

        var e = Assert.Throws<NotSupportedException>(() => OrtTensors.ToTensor(outputs[0], "seq"))!;

        Assert.That(e.Message, Does.Contain("'seq'").And.Contain(nameof(OnnxValueKind.Sequence)));
    }

    private static Tensor RunIdentity(Tensor tensor)
    {
        var b = new GraphBuilder();
        var x = b.Input("x", new TensorType(tensor.DataType, [.. tensor.Dims.Select(Dim.Of)]));
        var y = b.Op(OpTypes.Identity, [x], "y");
        y.Type = x.Type;
        b.Outputs(y);
        using var runner = OrtModelRunner.Open(b.Build(Opset), ExecutionTestKit.Settings());
        return runner.Run(new Dictionary<string, Tensor> { ["x"] = tensor }, runner.OutputNames)["y"];
    }

    /// <summary>Seeded bytes for every element; bool elements are 0 or 1.</summary>
    private static Tensor Numeric(TensorDataType type, long[] shape)
    {
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = new byte[TensorDataTypes.RawByteCount(type, count)];
        new Random(Seed).NextBytes(bytes);
        if (type == TensorDataType.Bool)
        {
            for (var i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        }
        return Tensor.FromRaw("t", type, shape, bytes);
    }

    private static Tensor Strings(long[] shape)
    {
        var count = (int)shape.Aggregate(1L, (a, b) => a * b);
        return Tensor.FromStrings("t", shape, Enumerable.Range(0, count).Select(i => Words[i % Words.Length]));
    }

    private static void AssertSame(Tensor actual, Tensor expected)
    {
        Assert.That(actual.DataType, Is.EqualTo(expected.DataType), "element type");
        Assert.That(actual.Dims, Is.EqualTo(expected.Dims), "shape");
        if (expected.DataType == TensorDataType.String)
        {
            Assert.That(actual.Strings.Select(s => s.ToStringUtf8()), Is.EqualTo(expected.Strings.Select(s => s.ToStringUtf8())), "strings");
        }
        else
        {
            Assert.That(actual.RawData.ToArray(), Is.EqualTo(expected.RawData.ToArray()), "bytes");
        }
    }
}
