using System.Runtime.InteropServices;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Proto;
using EdgeOpt.TestKit;

namespace EdgeOpt.Passes.Tests.TestKit;

/// <summary>The reference evaluator used for numeric checks agrees with the ONNX backend tests' expected outputs.</summary>
public class ReferenceEvaluatorTests
{
    private static readonly string[] Cases =
    [
        "test_conv_with_strides_padding", "test_conv_with_strides_no_padding", "test_conv_with_strides_and_asymmetric_padding",
        "test_convtranspose", "test_convtranspose_pads", "test_convtranspose_dilations", "test_convtranspose_group_2",
        "test_convtranspose_group_2_image_3",
        "test_gemm_all_attributes", "test_gemm_transposeA", "test_gemm_transposeB", "test_gemm_default_matrix_bias",
        "test_gemm_default_scalar_bias", "test_gemm_default_single_elem_vector_bias", "test_gemm_default_no_bias",
        "test_batchnorm_example", "test_batchnorm_epsilon",
        "test_transpose_all_permutations_3", "test_transpose_default",
        "test_reshape_negative_dim", "test_reshape_zero_and_negative_dim", "test_reshape_allowzero_reordered",
        "test_squeeze_negative_axes", "test_unsqueeze_unsorted_axes",
    ];

    [TestCaseSource(nameof(Cases))]
    public void BackendCase_MatchesExpectedOutput(string name)
    {
        var dir = TestPaths.RequireShared("onnx-backend-tests", "node", name);
        var model = ModelReader.Read(Path.Combine(dir, "model.onnx"));
        var data = Path.Combine(dir, "test_data_set_0");
        var inputs = model.Graph.Inputs.Where(i => !i.IsInitializer).Select((v, i) => (v.Name, Load(Path.Combine(data, $"input_{i}.pb"))))
            .ToDictionary(p => p.Name, p => p.Item2);

        var outputs = ReferenceEvaluator.Run(model, inputs);

        for (var i = 0; i < model.Graph.Outputs.Count; i++)
        {
            var expected = Load(Path.Combine(data, $"output_{i}.pb"));
            Assert.That(ReferenceEvaluator.AllClose(outputs[model.Graph.Outputs[i].Name], expected, 1e-5, 1e-6, out var message), Is.True, message);
        }
    }

    private static NdArray Load(string path)
    {
        var t = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var raw = t.RawData.Span;
        double[] values = (TensorProto.Types.DataType)t.DataType switch
        {
            TensorProto.Types.DataType.Float => raw.IsEmpty ? [.. t.FloatData.Select(f => (double)f)] : [.. MemoryMarshal.Cast<byte, float>(raw).ToArray().Select(f => (double)f)],
            TensorProto.Types.DataType.Double => raw.IsEmpty ? [.. t.DoubleData] : MemoryMarshal.Cast<byte, double>(raw).ToArray(),
            TensorProto.Types.DataType.Int64 => raw.IsEmpty ? [.. t.Int64Data.Select(l => (double)l)] : [.. MemoryMarshal.Cast<byte, long>(raw).ToArray().Select(l => (double)l)],
            var other => throw new NotSupportedException($"{path}: data type {other}"),
        };
        return new NdArray([.. t.Dims], values);
    }
}
