using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.TestKit;

namespace EdgeOpt.Passes.Tests.Quantization;

/// <summary>Structure of dynamically quantized graphs (numbers are checked in ONNX Runtime by <see cref="QuantizeOrtTests"/>).</summary>
public class QuantizeDynamicPassTests
{
    private static PassReport Run(Model model, QuantizeDynamicOptions? options = null) =>
        PassChecks.RunAndCheck(new QuantizeDynamicPass(options ?? new QuantizeDynamicOptions()), model);

    [Test]
    public void MatMul_BecomesDynamicQuantizeLinearAndMatMulInteger()
    {
        var model = QuantModels.Mlp();

        var report = Run(model);

        Assert.That(PassChecks.Count(model, OpTypes.MatMul) + PassChecks.Count(model, OpTypes.Gemm), Is.Zero);
        Assert.That(PassChecks.Count(model, QuantOps.MatMulInteger), Is.EqualTo(3));
        Assert.That(PassChecks.Count(model, QuantOps.DynamicQuantizeLinear), Is.EqualTo(2), "one for x (shared by two MatMuls), one for h");
        var mm = model.Graph.Nodes.First(n => n.OpType == QuantOps.MatMulInteger);
        Assert.That(mm.Input(1)!.Initializer!.DataType, Is.EqualTo(TensorDataType.Int8));
        Assert.That(report.Changes[0].Message, Does.StartWith("DynamicQuantizeLinear + MatMulInteger, weight int8 (per-channel, 32 scales): 2.0 KiB → 640 B"));
    }

    [Test]
    public void Gemm_AlphaFoldedIntoScalesBetaIntoBias()
    {
        var model = QuantModels.Mlp();
        var c = model.Graph.FindValue("c")!.Initializer!.ToSingles();

        Run(model, new QuantizeDynamicOptions { PerChannel = false });

        var scale = model.Graph.FindValue("y_node/weight_scale")!.Initializer!.ToSingles();
        var w2 = QuantModels.Mlp().Graph.FindValue("w2")!.Initializer!.ToSingles();
        Assert.That(scale, Is.EqualTo(new[] { 0.5f * (w2.Max(MathF.Abs) / 127) }), "alpha · max|W| / 127");
        Assert.That(model.Graph.FindValue("y_node/bias")!.Initializer!.ToSingles(), Is.EqualTo(c.Select(v => 2f * v)));
        Assert.That(model.Graph.Outputs[0].Producer!.OpType, Is.EqualTo(OpTypes.Add));
    }

    [Test]
    public void OldOpset_ContribDynamicQuantizeMatMulAndDomainImported()
    {
        var model = QuantModels.Mlp(opset: 10);

        var report = Run(model);

        Assert.That(PassChecks.Count(model, QuantOps.DynamicQuantizeMatMul), Is.EqualTo(3));
        Assert.That(model.Graph.Nodes.Where(n => n.OpType == QuantOps.DynamicQuantizeMatMul).Select(n => n.Domain), Has.All.EqualTo(QuantOps.MicrosoftDomain));
        Assert.That(model.OpsetVersion(QuantOps.MicrosoftDomain), Is.EqualTo(1));
        Assert.That(model.OpsetVersion(), Is.EqualTo(10), "the ONNX opset is not raised unasked");
        Assert.That(report.Changes[0].Message, Does.Contain("opset 10 < 11"));
    }

    [Test]
    public void Conv_SkippedByDefaultWithReason()
    {
        var model = QuantModels.Convs();

        var report = Run(model);

        Assert.That(report.Changed, Is.False);
        Assert.That(report.Skips.First().Message, Does.Contain("slower than float"));
        Assert.That(report.Skips.Last().Message, Is.EqualTo("0 nodes quantized, 2 left in float"));
    }

    [Test]
    public void ConvInteger_NeedsOpset11()
    {
        var model = QuantModels.Convs(opset: 10);

        var report = Run(model, new QuantizeDynamicOptions { Conv = DynamicConvMode.Integer });

        Assert.That(report.Skips.First().Message, Does.Contain("set UpgradeOpset"));
        Assert.That(PassChecks.Count(model, QuantOps.ConvInteger), Is.Zero);
    }

    [Test]
    public void ConvInteger_ScalesAndBiasBroadcastPerChannel()
    {
        var model = QuantModels.Convs();

        Run(model, new QuantizeDynamicOptions { Conv = DynamicConvMode.Integer });

        Assert.That(PassChecks.Count(model, QuantOps.ConvInteger), Is.EqualTo(2));
        Assert.That(model.Graph.FindValue("c1_node/weight_scale")!.Initializer!.Dims, Is.EqualTo(new long[] { 8, 1, 1 }));
        Assert.That(model.Graph.FindValue("c1_node/bias")!.Initializer!.Dims, Is.EqualTo(new long[] { 8, 1, 1 }));
        var conv = model.Graph.Nodes.First(n => n.OpType == QuantOps.ConvInteger);
        Assert.That(conv.GetInts(AttrNames.Pads), Is.EqualTo(new long[] { 1, 1, 1, 1 }));
    }

    [Test]
    public void WeightOnly_DequantizeInFrontOfFloatOps()
    {
        var model = QuantModels.Cnn();

        var report = Run(model, new QuantizeDynamicOptions { WeightOnly = true });

        Assert.That(PassChecks.Count(model, OpTypes.Conv), Is.EqualTo(3));
        foreach (var n in model.Graph.Nodes.Where(n => n.OpType is OpTypes.Conv or OpTypes.Gemm))
        {
            Assert.That(n.Input(1)!.Producer!.OpType, Is.EqualTo(QuantOps.DequantizeLinear), n.Name);
        }
        Assert.That(report.Changes.Count(c => c.Message.StartsWith("weight-only int8")), Is.EqualTo(4));
        Assert.That(model.Graph.Initializers.Select(i => i.Name), Has.None.EqualTo("w1"), "the float weight is gone");
    }

    [Test]
    public void NonConstantWeight_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var model = b.Outputs(b.Op(OpTypes.MatMul, [b.Input("x", 2, 4), b.Input("w", 4, 3)], "y")).Build();

        var report = Run(model);

        Assert.That(report.Skips[0].Message, Is.EqualTo("weight 'w' is not a constant"));
    }

    [Test]
    public void OverridableInitializer_SkippedWithWhatToDo()
    {
        var model = ModelReader.Read(TestPaths.RequireShared("models", "mnist-8.onnx"));

        var report = new QuantizeDynamicPass(new QuantizeDynamicOptions { WeightOnly = true }).Run(model, PassContext.Default);

        Assert.That(report.Changed, Is.False);
        Assert.That(report.Skips[0].Message, Does.Contain("is also a graph input (overridable); run remove-initializer-inputs first"));
    }

    [Test]
    public void IncludeExcludeAndMinWeightElements_Respected()
    {
        var model = QuantModels.Mlp();

        var report = Run(model, new QuantizeDynamicOptions { ExcludeNodes = ["z_node"], ExcludeOpTypes = [OpTypes.Gemm], MinWeightElements = 0 });

        Assert.That(report.Skips.Select(s => s.Message), Is.SupersetOf(new[] { "excluded by name (ExcludeNodes)", "Gemm is excluded (ExcludeOpTypes)" }));
        Assert.That(PassChecks.Count(model, QuantOps.MatMulInteger), Is.EqualTo(1));

        var small = QuantModels.Mlp();
        var smallReport = Run(small, new QuantizeDynamicOptions { MinWeightElements = 100 });
        Assert.That(smallReport.Skips.Select(s => s.Message), Has.Some.Contains("(< MinWeightElements 100)"));
    }

    [Test]
    public void Options_Validated()
    {
        var e = Assert.Throws<ArgumentException>(() => new QuantizeDynamicPass(new QuantizeDynamicOptions { MinWeightElements = -1, IncludeOpTypes = [" "] }));
        Assert.That(e!.Message, Does.Contain("MinWeightElements").And.Contain("IncludeOpTypes has a blank entry"));
    }

    [Test]
    public void Output_DeterministicAndIdempotent()
    {
        var pass = new QuantizeDynamicPass(new QuantizeDynamicOptions { Conv = DynamicConvMode.Integer });
        PassChecks.AssertDeterministic(pass, () => QuantModels.Cnn());
        PassChecks.AssertIdempotent(pass, QuantModels.Mlp());
    }
}
