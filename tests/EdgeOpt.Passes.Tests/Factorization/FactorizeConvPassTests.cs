using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Passes.Tests.Pruning;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;
using static EdgeOpt.Passes.Tests.Factorization.FactorModels;

namespace EdgeOpt.Passes.Tests.Factorization;

/// <summary>
/// <see cref="FactorizeConvPass"/>: weights with the structure a method assumes are rebuilt within 1e-4 in ONNX Runtime, for
/// strides, asymmetric pads, dilations, auto_pad and rectangular kernels; the ranks found; and the skips.
/// </summary>
public class FactorizeConvPassTests
{
    /// <summary>stride, pads (top, left, bottom, right), dilation, input size.</summary>
    private static readonly object[] Geometries =
    [
        new object[] { 1L, new long[] { 1, 1, 1, 1 }, 1L, 10L },
        new object[] { 2L, new long[] { 1, 1, 1, 1 }, 1L, 11L },
        new object[] { 2L, new long[] { 0, 1, 2, 1 }, 2L, 13L },
        new object[] { 1L, new long[] { 0, 0, 0, 0 }, 3L, 12L },
    ];

    private static FactorizeConvOptions Exact(ConvFactorization method) => new() { Method = method, Energy = 0.999999 };

    private static FactorizeConvPass FactorizeAndCompare(Model model, FactorizeConvOptions options)
    {
        var factorized = ModelReader.Copy(model);
        var pass = new FactorizeConvPass(options);
        PassChecks.RunAndCheck(pass, factorized);
        Assert.That(pass.LastResult!.Layers, Is.Not.Empty, string.Join("; ", pass.LastResult.Skipped.Select(s => s.Reason)));
        PruneOrt.AssertSameOutputs(model, factorized, rtol: 1e-4, atol: 1e-4);
        return pass;
    }

    [TestCaseSource(nameof(Geometries))]
    public void Tucker2_TuckerTensor_ExactInOrt(long stride, long[] pads, long dilation, long size)
    {
        var model = Conv(Tucker(32, 24, 3, 3, 8, 8, 1), [32, 24, 3, 3], [1, 24, size, size], Geometry(3, 3, stride, pads, dilation));

        var pass = FactorizeAndCompare(model, Exact(ConvFactorization.Tucker2));

        var layer = pass.LastResult!.Layers.Single();
        Assert.That(layer.Method, Is.EqualTo("Tucker2"));
        Assert.That(layer.Ranks, Is.EqualTo(new[] { 8, 8 }), "[r_in, r_out]");
        Assert.That(layer.ParametersAfter, Is.EqualTo(24 * 8 + 8 * 8 * 9 + 8 * 32));
        Assert.That(layer.MacsAfter, Is.LessThan(layer.MacsBefore!.Value));
        Assert.That(layer.Nodes, Has.Count.EqualTo(3));
        Assert.That(layer.RelativeError, Is.LessThan(1e-5));
    }

    [Test]
    public void Tucker2_DifferentModeRanks_AndHooiOff()
    {
        var model = Conv(Tucker(40, 32, 3, 3, 16, 8, 2), [40, 32, 3, 3], [1, 32, 8, 8], Geometry(3, 3, 1, [1, 1, 1, 1], 1));

        var pass = FactorizeAndCompare(model, Exact(ConvFactorization.Tucker2) with { HooiIterations = 0 });

        Assert.That(pass.LastResult!.Layers.Single().Ranks, Is.EqualTo(new[] { 8, 16 }));
    }

    [Test]
    public void Tucker2_FullInputRank_NoInputConv()
    {
        // Three input channels (a first layer): r_in = C, so U_in is the identity and the 1×1 input conv is dropped.
        var model = Conv(Tucker(32, 3, 3, 3, 8, 3, 6), [32, 3, 3, 3], [1, 3, 12, 12], Geometry(3, 3, 2, [1, 1, 1, 1], 1));

        var pass = FactorizeAndCompare(model, Exact(ConvFactorization.Tucker2));

        var layer = pass.LastResult!.Layers.Single();
        Assert.That(layer.Ranks, Is.EqualTo(new[] { 3, 8 }));
        Assert.That(layer.Nodes, Has.Count.EqualTo(2), "core and output conv only");
        Assert.That(layer.ParametersAfter, Is.EqualTo(8 * 3 * 9 + 32 * 8));
    }

    [Test]
    public void Tucker2_AutoPadSameUpperStride2_ExactInOrt()
    {
        var model = Conv(Tucker(32, 24, 3, 3, 8, 8, 3), [32, 24, 3, 3], [1, 24, 9, 9],
            Attribute.Ints(AttrNames.Strides, 2, 2), Attribute.String(AttrNames.AutoPad, "SAME_UPPER"));

        FactorizeAndCompare(model, Exact(ConvFactorization.Tucker2));
    }

    [TestCaseSource(nameof(Geometries))]
    public void SpatialSvd_SeparableKernel_ExactInOrt(long stride, long[] pads, long dilation, long size)
    {
        var model = Conv(SpatiallySeparable(32, 16, 3, 3, 8, 4), [32, 16, 3, 3], [1, 16, size, size], Geometry(3, 3, stride, pads, dilation));

        var pass = FactorizeAndCompare(model, Exact(ConvFactorization.SpatialSvd));

        var layer = pass.LastResult!.Layers.Single();
        Assert.That(layer.Ranks, Is.EqualTo(new[] { 8 }));
        Assert.That(layer.ParametersAfter, Is.EqualTo(8 * (16 * 3 + 32 * 3)));
    }

    [Test]
    public void SpatialSvd_RankOneRectangularKernel_ExactInOrt()
    {
        var model = Conv(SpatiallySeparable(16, 8, 3, 5, 1, 6), [16, 8, 3, 5], [1, 8, 12, 12], Geometry(3, 5, 2, [1, 2, 1, 2], 1));

        var pass = FactorizeAndCompare(model, Exact(ConvFactorization.SpatialSvd) with { RankMultiple = 1 });

        Assert.That(pass.LastResult!.Layers.Single().Ranks, Is.EqualTo(new[] { 1 }));
        var convs = model.Graph.Nodes.Count(n => n.OpType == OpTypes.Conv);
        Assert.That(convs, Is.EqualTo(1), "the input model is untouched");
    }

    [TestCaseSource(nameof(Geometries))]
    public void DepthwiseSeparable_SeparableBank_ExactInOrt(long stride, long[] pads, long dilation, long size)
    {
        var model = Conv(DepthwiseSeparable(32, 16, 3, 3, 5), [32, 16, 3, 3], [1, 16, size, size], Geometry(3, 3, stride, pads, dilation));

        var pass = FactorizeAndCompare(model, Exact(ConvFactorization.DepthwiseSeparable));

        var layer = pass.LastResult!.Layers.Single();
        Assert.That(layer.Ranks, Is.EqualTo(new[] { 1 }), "one filter per input channel");
        Assert.That(layer.ParametersAfter, Is.EqualTo(16 * 9 + 32 * 16));
    }

    [Test]
    public void DepthwiseSeparable_GeneralBank_MoreFiltersPerChannelForMoreEnergy()
    {
        var model = Conv(TinyModels.Random(32 * 16 * 9, 8), [32, 16, 3, 3], [1, 16, 8, 8], Geometry(3, 3, 1, [1, 1, 1, 1], 1));

        var low = new FactorizeConvPass(new FactorizeConvOptions { Method = ConvFactorization.DepthwiseSeparable, Energy = 0.3 });
        low.Run(ModelReader.Copy(model), PassContext.Default);
        var high = new FactorizeConvPass(new FactorizeConvOptions { Method = ConvFactorization.DepthwiseSeparable, Energy = 0.8 });
        high.Run(ModelReader.Copy(model), PassContext.Default);

        var (l, h) = (low.LastResult!.Layers.Single(), high.LastResult!.Layers.Single());
        Assert.That(h.Ranks[0], Is.GreaterThan(l.Ranks[0]));
        Assert.That(h.RelativeError, Is.LessThan(l.RelativeError));
        Assert.That(1 - h.RelativeError * h.RelativeError, Is.GreaterThanOrEqualTo(0.8 - 1e-6));
    }

    [Test]
    public void Cp_CpTensor_NearExactInOrt()
    {
        var model = Conv(Cp(32, 24, 3, 3, 8, 9), [32, 24, 3, 3], [1, 24, 9, 9], Geometry(3, 3, 2, [1, 1, 1, 1], 1));
        var factorized = ModelReader.Copy(model);
        var pass = new FactorizeConvPass(new FactorizeConvOptions { Method = ConvFactorization.Cp, RankRatio = 0.3, CpIterations = 500 });

        PassChecks.RunAndCheck(pass, factorized);

        var layer = pass.LastResult!.Layers.Single();
        Assert.That(layer.Ranks, Is.EqualTo(new[] { 8 }), "⌈0.3·24⌉ = 8");
        Assert.That(layer.Nodes, Has.Count.EqualTo(4));
        Assert.That(layer.RelativeError, Is.LessThan(1e-3));
        PruneOrt.AssertSameOutputs(model, factorized, rtol: 1e-2, atol: 1e-2);
    }

    [Test]
    public void Cp_EnergyPicksARankReachingTheFit()
    {
        var model = Conv(Cp(32, 24, 3, 3, 8, 9), [32, 24, 3, 3], [1, 24, 9, 9], Geometry(3, 3, 1, [1, 1, 1, 1], 1));
        var pass = new FactorizeConvPass(new FactorizeConvOptions { Method = ConvFactorization.Cp, Energy = 0.95, CpIterations = 200 });

        pass.Run(model, PassContext.Default);

        var layer = pass.LastResult!.Layers.Single();
        Assert.That(1 - layer.RelativeError * layer.RelativeError, Is.GreaterThanOrEqualTo(0.95 - 1e-3));
        Assert.That(layer.Ranks[0] % 8, Is.Zero);
    }

    [Test]
    public void GroupedPointwiseAndUnsavingConvs_SkippedWithReasons()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 16, 8, 8);
        var grouped = b.Op(OpTypes.Conv, [x, b.Weight("wg", 1, 16, 8, 3, 3)], "grouped", Attribute.Int(AttrNames.Group, 2), Attribute.Ints(AttrNames.Pads, 1, 1, 1, 1));
        var pointwise = b.Op(OpTypes.Conv, [grouped, b.Weight("wp", 2, 16, 16, 1, 1)], "pointwise");
        var dense = b.Op(OpTypes.Conv, [pointwise, b.Weight("wd", 3, 16, 16, 3, 3)], "dense", Attribute.Ints(AttrNames.Pads, 1, 1, 1, 1));
        var model = b.Outputs(dense).Build();
        var before = ModelWriter.ToBytes(model);

        var report = new FactorizeConvPass(new FactorizeConvOptions { Energy = 0.99 }).Run(model, PassContext.Default);

        var skips = report.Skips.ToDictionary(s => s.Target, s => s.Message);
        Assert.That(skips["grouped_node (Conv)"], Does.Contain("grouped conv (group 2)"));
        Assert.That(skips["pointwise_node (Conv)"], Does.Contain("1×1").And.Contain("factorize-svd"));
        Assert.That(skips["dense_node (Conv)"], Does.Contain("would not save"));
        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before), "skips change nothing");
    }

    [Test]
    public void StrideTwoTucker_CountsTheInputResolutionConv()
    {
        // With stride 2 the first 1×1 conv runs at 4× the output pixels: ranks that save parameters may still cost MACs.
        var model = Conv(TinyModels.Random(24 * 24 * 9, 4), [24, 24, 3, 3], [1, 24, 16, 16], Geometry(3, 3, 2, [1, 1, 1, 1], 1));

        var report = new FactorizeConvPass(new FactorizeConvOptions { RankRatio = 0.8, RankMultiple = 1 }).Run(model, PassContext.Default);

        Assert.That(report.Skips.Single().Message, Does.Contain("MACs"));
    }
}
