using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;
using EdgeOpt.TestKit;

namespace EdgeOpt.Pipeline.Tests.Execution;

/// <summary>What the bridge says when ONNX Runtime refuses a model or a caller's inputs.</summary>
public class BadInputTests
{
    private const string UnknownDomain = "com.example.unknown";
    private const string UnknownOp = "Mystery";

    /// <summary>Gelu entered ONNX at opset 20; a model importing opset 17 cannot use it.</summary>
    private const long OpsetBeforeGelu = 17;

    private const string MissingFile = "no-such-model.onnx";

    [Test]
    public void Open_NodeOfAnUnknownDomain_ThrowsOrtExceptionNamingTheOp()
    {
        var b = new GraphBuilder();
        var y = b.Graph.AddNode(UnknownOp, [b.Input("x", 1, 4)], ["y"], domain: UnknownDomain).Output();
        y.Type = TensorType.Of(TensorDataType.Float, 1, 4);
        var model = b.Outputs(y).Build();
        model.Opsets.Add(new OpsetId(UnknownDomain, 1));

        var e = Assert.Throws<OrtException>(() => OrtModelRunner.Open(model, ExecutionTestKit.Settings()))!;

        Assert.That(e.NativeMessage, Does.Contain(UnknownOp).And.Contain(UnknownDomain));
    }

    [Test]
    public void Open_OpNewerThanTheImportedOpset_ThrowsOrtExceptionNamingTheOp()
    {
        var b = new GraphBuilder();
        var y = b.Op(OpTypes.Gelu, [b.Input("x", 1, 4)], "y");
        y.Type = TensorType.Of(TensorDataType.Float, 1, 4);
        var model = b.Outputs(y).Build(OpsetBeforeGelu);

        var e = Assert.Throws<OrtException>(() => OrtModelRunner.Open(model, ExecutionTestKit.Settings()))!;

        Assert.That(e.NativeMessage, Does.Contain(OpTypes.Gelu));
    }

    [Test]
    public void Open_MissingFile_ThrowsOrtExceptionNamingThePath()
    {
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, MissingFile);

        var e = Assert.Throws<OrtException>(() => OrtModelRunner.Open(path, ExecutionTestKit.Settings()))!;

        Assert.That(e.NativeMessage, Does.Contain(MissingFile));
    }

    [Test]
    public void Run_InputMissingFromTheDictionary_ThrowsArgumentExceptionNamingMissingAndExpected()
    {
        using var runner = OrtModelRunner.Open(TwoInputAdd(), ExecutionTestKit.Settings());
        var feeds = new Dictionary<string, Tensor> { ["a"] = Tensor.Create("a", [1, 4], new float[4]) };

        var e = Assert.Throws<ArgumentException>(() => runner.Run(feeds, runner.OutputNames))!;

        Assert.That(e.Message, Does.Contain("no value for input 'b'").And.Contain("'a', 'b'"));
    }

    [Test]
    public void Run_InputOfTheWrongShape_ThrowsOrtExceptionWithInvalidArgument()
    {
        var model = TinyModels.MatMulAddRelu(k: 4);
        using var runner = OrtModelRunner.Open(model, ExecutionTestKit.Settings());
        var feeds = new Dictionary<string, Tensor> { ["x"] = Tensor.Create("x", [1, 5], new float[5]) };

        var e = Assert.Throws<OrtException>(() => runner.Run(feeds, runner.OutputNames))!;

        Assert.That(e.Code, Is.EqualTo(OrtErrorCode.InvalidArgument));
        Assert.That(e.NativeMessage, Does.Contain("x"));
    }

    [Test]
    public void Run_InputOfTheWrongElementType_ThrowsOrtExceptionWithInvalidArgument()
    {
        var model = TinyModels.MatMulAddRelu(k: 4);
        using var runner = OrtModelRunner.Open(model, ExecutionTestKit.Settings());
        var feeds = new Dictionary<string, Tensor> { ["x"] = Tensor.Create("x", [1, 4], new double[4]) };

        var e = Assert.Throws<OrtException>(() => runner.Run(feeds, runner.OutputNames))!;

        Assert.That(e.Code, Is.EqualTo(OrtErrorCode.InvalidArgument));
        Assert.That(e.NativeMessage, Does.Contain("double").And.Contain("float"));
    }

    private static Model TwoInputAdd()
    {
        var b = new GraphBuilder();
        var y = b.Op(OpTypes.Add, [b.Input("a", 1, 4), b.Input("b", 1, 4)], "y");
        y.Type = TensorType.Of(TensorDataType.Float, 1, 4);
        return b.Outputs(y).Build();
    }
}
