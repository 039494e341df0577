using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.TestKit;

namespace EdgeOpt.Runtime.Tests;

/// <summary>ONNX backend test cases run through the binding and compared with their stored outputs.</summary>
public class BackendCaseTests
{
    [TestCase("test_relu")]
    [TestCase("test_conv_with_strides_padding")]
    [TestCase("test_matmul_2d")]
    [TestCase("test_gemm_default_no_bias")]
    [TestCase("test_gemm_default_matrix_bias")]
    [TestCase("test_add_bcast")]
    [TestCase("test_cast_FLOAT_to_DOUBLE")]
    [TestCase("test_argmax_default_axis_example")]
    [TestCase("test_equal_string")]
    [TestCase("test_string_concat")]
    [TestCase("test_string_concat_utf8")]
    public void Run_BackendCase_MatchesTheStoredOutputs(string name)
    {
        var library = Ort.Library;
        var folder = TestPaths.RequireShared("onnx-backend-tests", "node", name);
        var data = Path.Combine(folder, "test_data_set_0");
        using var session = new InferenceSession(library, Path.Combine(folder, "model.onnx"));
        var inputs = Numbered(data, "input").Select(TensorFiles.Read).ToList();
        var expected = Numbered(data, "output").Select(TensorFiles.Read).ToList();
        var values = inputs.Select(t => ToOrtValue(library, t)).ToList();
        try
        {
            using var outputs = session.Run(session.InputNames, values, session.OutputNames);

            Assert.That(outputs, Has.Count.EqualTo(expected.Count));
            for (var i = 0; i < expected.Count; i++) AssertMatches(outputs[i], expected[i], session.OutputNames[i]);
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    private static IEnumerable<string> Numbered(string folder, string prefix)
    {
        for (var i = 0; File.Exists(Path.Combine(folder, $"{prefix}_{i}.pb")); i++) yield return Path.Combine(folder, $"{prefix}_{i}.pb");
    }

    private static OrtValue ToOrtValue(OrtLibrary library, Tensor t) =>
        t.DataType == TensorDataType.String
            ? OrtValue.CreateStringTensor(library, [.. t.Strings.Select(s => s.ToStringUtf8())], t.DimsArray())
            : OrtValue.CreateTensor(library, (OnnxElementType)(int)t.DataType, t.RawData.Span, t.DimsArray());

    private static void AssertMatches(OrtValue actual, Tensor expected, string output)
    {
        Assert.That((int)actual.ElementType, Is.EqualTo((int)expected.DataType), $"{output}: element type");
        Assert.That(actual.Shape, Is.EqualTo(expected.Dims), $"{output}: shape");
        switch (expected.DataType)
        {
            case TensorDataType.Float:
                Ort.AssertClose(actual.GetTensorData<float>(), expected.AsSpan<float>());
                break;
            case TensorDataType.Double:
                Assert.That(actual.ToArray<double>(), Is.EqualTo(expected.ToArray<double>()).Within(1e-5), output);
                break;
            case TensorDataType.String:
                Assert.That(actual.GetStrings(), Is.EqualTo(expected.Strings.Select(s => s.ToStringUtf8())), output);
                break;
            default:
                Assert.That(actual.GetTensorBytes().ToArray(), Is.EqualTo(expected.RawData.ToArray()), output);
                break;
        }
    }
}
