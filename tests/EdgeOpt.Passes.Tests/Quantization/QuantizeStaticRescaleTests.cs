using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Runtime;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Quantization;

/// <summary>
/// Static quantization of the PP-OCRv4 (PP-LCNetV3) block shape: Conv → Mul(s) → Add(t) (learnable affine, folded into the Conv),
/// the decomposed hard-swish x·Clip(x+3, 0, 6)/6 and a scalar affine before the next Conv (rescales, no op), and a
/// squeeze-excitation gate from a float HardSigmoid.
/// </summary>
public class QuantizeStaticRescaleTests
{
    private const double MinCosine = 0.99;

    /// <summary>
    /// x[1,4,10,10] → Conv → ·0.9 → +0.3 (named "lab") → hard-swish (÷6) → ·0.6 → −0.2 → depthwise Conv (pads 1) → y, and an SE branch
    /// y · HardSigmoid(Conv(GlobalAveragePool(y))) → "out".
    /// </summary>
    private static Model Block()
    {
        var b = new GraphBuilder("lcnet_block");
        var x = b.Input("x", 1, 4, 10, 10);
        var c1 = b.Op(OpTypes.Conv, [x, b.Weight("w1", 41, -0.5, 0.5, 8, 4, 1, 1), b.Weight("b1", 42, 8)], "c1");
        var lab = b.Op(OpTypes.Add, [b.Op(OpTypes.Mul, [b.Constant("s1", [1], 0.9f), c1], "scaled"), b.Constant("t1", [1], 0.3f)], "lab");
        var gate = b.Op(OpTypes.Clip, [b.Op(OpTypes.Add, [lab, b.Constant("three", [1], 3f)], "plus3"), b.Constant("lo", [], 0f), b.Constant("hi", [], 6f)], "gate");
        var hs = b.Op(OpTypes.Div, [b.Op(OpTypes.Mul, [lab, gate], "prod"), b.Constant("six", [1], 6f)], "hswish");
        var lab2 = b.Op(OpTypes.Add, [b.Op(OpTypes.Mul, [b.Constant("s2", [1], 0.6f), hs], "scaled2"), b.Constant("t2", [1], -0.2f)], "lab2");
        var y = b.Op(OpTypes.Conv, [lab2, b.Weight("w2", 43, -0.5, 0.5, 8, 1, 3, 3), b.Weight("b2", 44, 8)], "y",
            Attribute.Ints(AttrNames.Pads, 1, 1, 1, 1), Attribute.Int(AttrNames.Group, 8));
        var se = b.Op(OpTypes.Conv, [b.Op(OpTypes.GlobalAveragePool, [y], "pooled"), b.Weight("w3", 45, -0.5, 0.5, 8, 8, 1, 1)], "se");
        var hsig = b.Op(OpTypes.HardSigmoid, [se], "hsig", Attribute.Float(AttrNames.Alpha, 0.2f), Attribute.Float("beta", 0.5f));
        return b.Outputs(b.Op(OpTypes.Mul, [y, hsig], "out")).Build(13);
    }

    private static QuantizeStaticOptions Options(Model model, QuantFormat format = QuantFormat.Qdq, QuantType type = QuantType.U8) => new()
    {
        Calibration = QuantOrt.Calibrate(model, [.. Enumerable.Range(1, 8).Select(s => QuantOrt.RandomFeed(model, s))]),
        Format = format,
        ActivationType = type,
    };

    private static (Model Quantized, PassReport Report) Quantize(Model model, QuantizeStaticOptions options)
    {
        var quantized = ModelReader.Copy(model);
        var report = PassChecks.RunAndCheck(new QuantizeStaticPass(options), quantized);
        TestContext.Out.WriteLine(string.Join("\n", report.Changes.Concat(report.Skips)));
        return (quantized, report);
    }

    [Test]
    public void Block_AffineFoldedAndScalarOpsBecomeRescales()
    {
        var model = Block();

        var (quantized, report) = Quantize(model, Options(model));

        Assert.That(report.Changes.Count(c => c.Message.StartsWith("fold-conv-affine: ", StringComparison.Ordinal)), Is.EqualTo(2), "c1's Mul and Add");
        Assert.That(report.Changes.Where(c => c.Message.StartsWith("int8 rescale", StringComparison.Ordinal)).Select(c => c.Target),
            Is.EquivalentTo(new[] { "hswish_node (Div)", "scaled2_node (Mul)", "lab2_node (Add)" }));
        Assert.That(PassChecks.Count(quantized, OpTypes.Div), Is.Zero);
        Assert.That(PassChecks.Count(quantized, OpTypes.Add), Is.EqualTo(1), "only the hard-swish's +3 computes");
        Assert.That(PassChecks.Count(quantized, OpTypes.Mul), Is.EqualTo(2), "only the hard-swish product and the SE gate compute");
        Assert.That(quantized.Graph.Outputs.Single().Name, Is.EqualTo("out"));
    }

    [Test]
    public void BlockQdqU8_OrtRunsEveryNodeButTheHardSigmoidInInt8()
    {
        var model = Block();

        var (quantized, _) = Quantize(model, Options(model));

        var ops = QuantOrt.OptimizedOpTypes(quantized);
        TestContext.Out.WriteLine(string.Join(", ", ops));
        Assert.That(ops, Has.No.Member(OpTypes.Div).And.No.Member(OpTypes.Mul).And.No.Member(OpTypes.Add).And.No.Member(OpTypes.Conv).And.No.Member(OpTypes.Clip));
        Assert.That(ops.Count(o => o == QuantOps.QLinearConv), Is.EqualTo(3));
        Assert.That(ops.Count(o => o == QuantOps.QLinearMul), Is.EqualTo(2), "the hard-swish product and the SE gate");
        Assert.That(ops.Count(o => o == QuantOps.QuantizeLinear), Is.EqualTo(2), "the input, and the float HardSigmoid gate");
    }

    [TestCase(QuantFormat.Qdq, QuantType.U8)]
    [TestCase(QuantFormat.Qdq, QuantType.S8)]
    [TestCase(QuantFormat.QOperator, QuantType.U8)]
    [TestCase(QuantFormat.QOperator, QuantType.S8)]
    public void Block_RunsAndAgreesWithFloat(QuantFormat format, QuantType type)
    {
        var model = Block();

        var (quantized, _) = Quantize(model, Options(model, format, type));

        foreach (var level in new[] { GraphOptimizationLevel.Disabled, GraphOptimizationLevel.All })
        {
            var cosine = QuantOrt.MinCosine(model, quantized, Enumerable.Range(100, 3).Select(s => QuantOrt.RandomFeed(model, s)), level);
            TestContext.Out.WriteLine($"{level}: min cosine {cosine:F5}");
            Assert.That(cosine, Is.GreaterThanOrEqualTo(MinCosine), $"graph optimizations {level}");
        }
    }

    [Test]
    public void S8Activations_AddOfAScalarIsNoZeroPointShift()
    {
        var model = Block();

        var (_, report) = Quantize(model, Options(model, QuantFormat.QOperator, QuantType.S8));

        Assert.That(report.Changes.Single(c => c.Target == "lab2_node (Add)").Message, Does.StartWith("int8 Add"), "symmetric int8 keeps zero point 0");
        Assert.That(report.Changes.Single(c => c.Target == "hswish_node (Div)").Message, Does.StartWith("int8 rescale"));
    }

    [Test]
    public void RescaleScalarOpsOff_ScalarOpsComputeInInt8()
    {
        var model = Block();

        var (quantized, report) = Quantize(model, Options(model) with { RescaleScalarOps = false });

        Assert.That(report.Changes.Any(c => c.Message.StartsWith("int8 rescale", StringComparison.Ordinal)), Is.False);
        Assert.That(PassChecks.Count(quantized, OpTypes.Div), Is.EqualTo(1), "Div has no int8 kernel: it stays float");
    }

    [Test]
    public void FoldConvAffineOff_AffineStaysAsScalarOps()
    {
        var model = Block();

        var (_, report) = Quantize(model, Options(model) with { FoldConvAffine = false });

        Assert.That(report.Changes.Any(c => c.Message.StartsWith("fold-conv-affine", StringComparison.Ordinal)), Is.False);
        Assert.That(report.Changes.Single(c => c.Target == "scaled_node (Mul)").Message, Does.StartWith("int8 rescale"));
    }

    [Test]
    public void HardSwishInput_RangeStopsAtMinusThree()
    {
        var model = Block();
        var options = Options(model);
        var ranges = options.Calibration!.Ranges.ToDictionary(kv => kv.Key, kv => kv.Value);
        ranges["lab"] = new TensorRange(-40f, 10f);

        var (_, report) = Quantize(model, options with { Calibration = new CalibrationTable("minmax", 8, ranges) });

        var expected = QuantMath.Compute(new TensorRange(-3f, 10f), QuantMath.Codes(QuantType.U8), symmetric: false);
        Assert.That(report.Changes.Single(c => c.Target == "c1_node (Conv)").Message, Does.Contain($"output 'lab' ({expected})"));
    }

    [Test]
    public void HardSwishInputReadElsewhereToo_FullRangeKept()
    {
        var b = new GraphBuilder("shared_hswish_input");
        var c = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 4, 4), b.Weight("w", 1, -0.5, 0.5, 2, 2, 1, 1)], "c");
        var gate = b.Op(OpTypes.Clip, [b.Op(OpTypes.Add, [c, b.Constant("three", [], 3f)], "plus3"), b.Constant("lo", [], 0f), b.Constant("hi", [], 6f)], "gate");
        var model = b.Outputs(b.Op(OpTypes.Mul, [c, gate], "hs"), b.Op(OpTypes.Sigmoid, [c], "other")).Build(13);
        var ranges = new Dictionary<string, TensorRange> { ["x"] = new(-1, 1), ["c"] = new(-40, 10), ["gate"] = new(0, 6), ["hs"] = new(-1, 60), ["other"] = new(0, 1) };

        var (_, report) = Quantize(model, new QuantizeStaticOptions { Calibration = new CalibrationTable("minmax", 1, ranges) });

        var full = QuantMath.Compute(new TensorRange(-40f, 10f), QuantMath.Codes(QuantType.U8), symmetric: false);
        Assert.That(report.Changes.Single(ch => ch.Target == "c_node (Conv)").Message, Does.Contain($"output 'c' ({full})"));
    }

    [Test]
    public void StrideTwoConvTranspose_RunsAsInt8ConvAndDepthToSpace()
    {
        var model = QuantModels.Decoder();
        var options = new QuantizeStaticOptions { Calibration = QuantOrt.Calibrate(model, [.. Enumerable.Range(1, 8).Select(s => QuantOrt.RandomFeed(model, s))]) };

        var (quantized, report) = Quantize(model, options);

        Assert.That(report.Changes.Single(c => c.Target == "up_node (ConvTranspose)").Message, Does.StartWith("convtranspose-to-depthtospace: "));
        var ops = QuantOrt.OptimizedOpTypes(quantized);
        TestContext.Out.WriteLine(string.Join(", ", ops));
        Assert.That(ops, Has.No.Member(OpTypes.ConvTranspose).And.No.Member(OpTypes.Conv).And.Member(ConvTransposeToDepthToSpacePass.DepthToSpace));
        Assert.That(ops.Count(o => o == QuantOps.QLinearConv), Is.EqualTo(2));
        var cosine = QuantOrt.MinCosine(model, quantized, Enumerable.Range(100, 3).Select(s => QuantOrt.RandomFeed(model, s)), GraphOptimizationLevel.All);
        Assert.That(cosine, Is.GreaterThanOrEqualTo(MinCosine));
    }

    [Test]
    public void FloatStemMaxChannels_FewInputChannelConvStaysFloat()
    {
        var model = Block();

        var (quantized, report) = Quantize(model, Options(model) with { FloatStemMaxChannels = 4 });

        Assert.That(report.Skips.Single(c => c.Target == "c1_node (Conv)").Message, Does.StartWith("4 input channels ≤ FloatStemMaxChannels 4"));
        Assert.That(report.Changes.Single(c => c.Target == "y_node (Conv)").Message, Does.StartWith("int8 Conv"), "8 input channels");
        var cosine = QuantOrt.MinCosine(model, quantized, Enumerable.Range(100, 3).Select(s => QuantOrt.RandomFeed(model, s)), GraphOptimizationLevel.All);
        Assert.That(cosine, Is.GreaterThanOrEqualTo(MinCosine));
    }

    [Test]
    public void NegativeFloatStemMaxChannels_IsInvalid()
    {
        Assert.That(new QuantizeStaticOptions { FloatStemMaxChannels = -1 }.Validate(), Has.Some.Contains("negative"));
    }
}
