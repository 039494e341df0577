using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Runtime;

namespace EdgeOpt.Passes.Tests.Quantization;

/// <summary>
/// Every emitted form loads and runs in ONNX Runtime (with its graph optimizations off, the model as written, and on, the fused
/// int8 kernels) and agrees with the float model: cosine ≥ 0.99 on held-out seeded inputs for these tiny models.
/// </summary>
public class QuantizeOrtTests
{
    private const double MinCosine = 0.99;

    private static readonly GraphOptimizationLevel[] Levels = [GraphOptimizationLevel.Disabled, GraphOptimizationLevel.All];

    private static IEnumerable<Feed> HeldOut(Model model, float low = -1f) => Enumerable.Range(100, 3).Select(s => QuantOrt.RandomFeed(model, s, low));

    private static CalibrationTable Calibrate(Model model, float low = -1f) =>
        QuantOrt.Calibrate(model, [.. Enumerable.Range(1, 8).Select(s => QuantOrt.RandomFeed(model, s, low))]);

    private static void AssertAgrees(Model reference, Model quantized, float low = -1f)
    {
        foreach (var level in Levels)
        {
            var cosine = QuantOrt.MinCosine(reference, quantized, HeldOut(reference, low), level);
            TestContext.Out.WriteLine($"{level}: min cosine {cosine:F5}");
            Assert.That(cosine, Is.GreaterThanOrEqualTo(MinCosine), $"graph optimizations {level}");
        }
    }

    [TestCase(13L, false, TestName = "DynamicMatMulGemm_Opset13PerChannel_RunsAndAgrees")]
    [TestCase(13L, true, TestName = "DynamicMatMulGemm_Opset13ReduceRange_RunsAndAgrees")]
    [TestCase(10L, false, TestName = "DynamicMatMulGemm_Opset10ContribForm_RunsAndAgrees")]
    public void DynamicMatMulGemm(long opset, bool reduceRange)
    {
        var model = QuantModels.Mlp(opset);
        var quantized = ModelReader.Copy(model);

        PassChecks.RunAndCheck(new QuantizeDynamicPass(new QuantizeDynamicOptions { ReduceRange = reduceRange }), quantized);

        Assert.That(PassChecks.Count(quantized, OpTypes.MatMul) + PassChecks.Count(quantized, OpTypes.Gemm), Is.Zero);
        AssertAgrees(model, quantized);
        if (opset >= 11) Assert.That(QuantOrt.OptimizedOpTypes(quantized), Has.Some.EqualTo(QuantOps.DynamicQuantizeMatMul), "ORT fuses the integer MatMul pattern");
    }

    [TestCase(true, TestName = "DynamicConvInteger_PerChannel_RunsAndAgrees")]
    [TestCase(false, TestName = "DynamicConvInteger_PerTensor_RunsAndAgrees")]
    public void DynamicConvInteger(bool perChannel)
    {
        var model = QuantModels.Convs();
        var quantized = ModelReader.Copy(model);

        PassChecks.RunAndCheck(new QuantizeDynamicPass(new QuantizeDynamicOptions { Conv = DynamicConvMode.Integer, PerChannel = perChannel }), quantized);

        Assert.That(PassChecks.Count(quantized, QuantOps.ConvInteger), Is.EqualTo(2));
        AssertAgrees(model, quantized);
    }

    [Test]
    public void WeightOnly_ConvMatMulGemmConvTranspose_RunAndAgree()
    {
        foreach (var model in new[] { QuantModels.Cnn(), QuantModels.Mlp(), QuantModels.Decoder(), QuantModels.Cnn(opset: 9) })
        {
            var quantized = ModelReader.Copy(model);

            PassChecks.RunAndCheck(new QuantizeDynamicPass(new QuantizeDynamicOptions { WeightOnly = true }), quantized);

            Assert.That(PassChecks.Count(quantized, QuantOps.DequantizeLinear), Is.GreaterThan(0));
            AssertAgrees(model, quantized);
        }
    }

    public static IEnumerable<TestCaseData> StaticCases()
    {
        foreach (var format in new[] { QuantFormat.Qdq, QuantFormat.QOperator })
        {
            foreach (var type in new[] { QuantType.U8, QuantType.S8 })
            {
                foreach (var perChannel in new[] { true, false })
                {
                    yield return new TestCaseData(format, type, perChannel).SetName($"Static{format}_{type}_{(perChannel ? "PerChannel" : "PerTensor")}_RunsAndAgrees");
                }
            }
        }
    }

    [TestCaseSource(nameof(StaticCases))]
    public void Static(QuantFormat format, QuantType type, bool perChannel)
    {
        foreach (var build in new Func<Model>[] { () => QuantModels.Cnn(), () => QuantModels.Mlp(), () => QuantModels.Convs(), () => QuantModels.Decoder() })
        {
            var model = build();
            var options = new QuantizeStaticOptions { Calibration = Calibrate(model), Format = format, ActivationType = type, PerChannel = perChannel };
            var quantized = ModelReader.Copy(model);

            var report = PassChecks.RunAndCheck(new QuantizeStaticPass(options), quantized);

            TestContext.Out.WriteLine($"{model.Graph.Name}: {report.Changes.Last()}");
            AssertAgrees(model, quantized);
        }
    }

    [Test]
    public void StaticQdqU8_OrtFusesEveryQuantizedOp()
    {
        var model = QuantModels.Cnn();
        var quantized = ModelReader.Copy(model);

        new QuantizeStaticPass(new QuantizeStaticOptions { Calibration = Calibrate(model) }).Run(quantized, PassContext.Default);

        var ops = QuantOrt.OptimizedOpTypes(quantized);
        TestContext.Out.WriteLine(string.Join(", ", ops));
        Assert.That(ops.Count(o => o == QuantOps.QLinearConv), Is.EqualTo(3), "each Conv runs as QLinearConv");
        Assert.That(ops, Has.Member(QuantOps.QGemm).And.Member(QuantOps.QLinearAdd).And.Member(QuantOps.QLinearMul)
            .And.Member(QuantOps.QLinearConcat).And.Member(QuantOps.QLinearSigmoid).And.Member(QuantOps.QLinearGlobalAveragePool));
        Assert.That(ops, Has.No.Member(OpTypes.Conv).And.No.Member(OpTypes.Relu).And.No.Member(OpTypes.Clip), "no Conv left in float, activations folded");
        Assert.That(ops.Count(o => o == QuantOps.QuantizeLinear), Is.EqualTo(1), "one Q at the input");
        Assert.That(ops.Count(o => o == QuantOps.DequantizeLinear), Is.LessThanOrEqualTo(2), "DQ only where 'logits' leaves int8 (ORT gives each consumer its own)");
        Assert.That(PassChecks.Count(quantized, QuantOps.DequantizeLinear) - PassChecks.Count(quantized, QuantOps.QuantizeLinear), Is.EqualTo(7),
            "besides one DQ per Q, only 4 weights (3 Conv, 1 Gemm) and 3 biases are dequantized");
    }
}
