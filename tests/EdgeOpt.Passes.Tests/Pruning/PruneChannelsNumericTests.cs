using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using static EdgeOpt.Passes.Tests.Pruning.PruneModels;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary>
/// Numbers of <see cref="PruneChannelsPass"/> in ONNX Runtime: removing channels that are zero where they are read leaves
/// every output unchanged; with random weights, the kept channels of the pruned layer are unchanged.
/// </summary>
public class PruneChannelsNumericTests
{
    private static PruneChannelsOptions Quarter => new() { Ratio = 0.25 };

    /// <summary>Prunes a copy of <paramref name="model"/> and checks it computes the same outputs.</summary>
    private static PruneChannelsPass PruneAndCompare(Model model, PruneChannelsOptions options)
    {
        var pruned = ModelReader.Copy(model);
        var pass = new PruneChannelsPass(options);
        PassChecks.RunAndCheck(pass, pruned);
        Assert.That(pass.LastResult!.Layers, Is.Not.Empty, "nothing was pruned");
        PruneOrt.AssertSameOutputs(model, pruned);
        return pass;
    }

    [Test]
    public void ConvBnReluConv_ZeroChannels_SameOutputs()
    {
        var model = ConvBnReluConv();
        foreach (var name in new[] { "w1", "b1", "bn_bias", "bn_mean" }) Zero(model, name, 0, 1, 5);

        var pass = PruneAndCompare(model, Quarter);

        Assert.That(pass.LastResult!.Layers.Single().RemovedChannels, Is.EqualTo(new long[] { 1, 5 }));
    }

    [Test]
    public void Depthwise_ZeroChannels_SameOutputs()
    {
        var model = Depthwise();
        foreach (var name in new[] { "w1", "b1", "bdw" }) Zero(model, name, 0, 2, 6);

        PruneAndCompare(model, Quarter);
    }

    [Test]
    public void ResidualAdd_ZeroChannels_SameOutputs()
    {
        var model = Residual();
        foreach (var name in new[] { "wa", "ba", "wb", "bb" }) Zero(model, name, 0, 3, 7);

        var pass = PruneAndCompare(model, Quarter);

        Assert.That(pass.LastResult!.Layers.Select(l => l.RemovedChannels), Has.All.EqualTo(new long[] { 3, 7 }));
    }

    [Test]
    public void Concat_ZeroChannels_SameOutputs()
    {
        var model = Concat();
        Zero(model, "wa", 0, 1);
        Zero(model, "ba", 0, 1);
        Zero(model, "wb", 0, 2, 4);
        Zero(model, "bb", 0, 2, 4);

        PruneAndCompare(model, Quarter with { LayerRatios = new Dictionary<string, double> { ["cb_node"] = 0.34 } });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void FlattenIntoGemm_ZeroChannels_SameOutputs(bool reshape)
    {
        var model = FlattenGemm(reshape);
        Zero(model, "w", 0, 2, 5);
        Zero(model, "bias", 0, 2, 5);

        PruneAndCompare(model, Quarter);
    }

    [Test]
    public void ReshapeMovingUnitAxes_ZeroChannels_SameOutputs()
    {
        var model = ConvInto((b, r) =>
        {
            var pooled = b.Op(OpTypes.GlobalAveragePool, [r], "pooled");
            var nhwc = b.Op(OpTypes.Reshape, [pooled, b.Int64s("nhwc_shape", 1, 1, 1, 8)], "nhwc");
            return [b.Op(OpTypes.MatMul, [nhwc, b.Weight("head", 5, 8, 5)], "y")];
        });
        Zero(model, "w1", 0, 0, 6);
        Zero(model, "b1", 0, 0, 6);

        PruneAndCompare(model, Quarter);

        Assert.That(InputOf(model, "nhwc_node").ToInt64s(), Is.EqualTo(new long[] { 1, 1, 1, 8 }), "the original is untouched");
    }

    [Test]
    public void MatMul_ZeroFeatures_SameOutputs()
    {
        var model = MatMulMlp();
        Zero(model, "w1", 1, 3, 7, 9);
        Zero(model, "b1", 0, 3, 7, 9);

        PruneAndCompare(model, Quarter);
    }

    [Test]
    public void RandomWeights_KeptChannelsOfThePrunedLayerAreUnchanged()
    {
        var model = ConvBnReluConv();
        var pruned = ModelReader.Copy(model);
        var pass = new PruneChannelsPass(Quarter);
        pass.Run(pruned, PassContext.Default);
        var removed = pass.LastResult!.Layers.Single().RemovedChannels;

        var expected = PruneOrt.Run(PruneOrt.Exposing(model, "r"))["r"];
        var actual = PruneOrt.Run(PruneOrt.Exposing(pruned, "r"))["r"];

        Assert.That(actual.Shape, Is.EqualTo(new long[] { 1, 6, 8, 8 }));
        var kept = Enumerable.Range(0, 8).Where(c => !removed.Contains(c)).ToList();
        var slice = kept.SelectMany(c => expected.Data.Skip(c * 64).Take(64)).ToArray();
        PruneOrt.AssertClose(actual.Data, slice, 1e-4, 1e-5, "r");
    }

    [Test]
    public void RandomWeights_OutputsStayFiniteAndShaped()
    {
        var model = Residual();
        var pruned = ModelReader.Copy(model);

        new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.5 }).Run(pruned, PassContext.Default);

        var output = PruneOrt.Run(pruned)["y"];
        Assert.That(output.Shape, Is.EqualTo(new long[] { 1, 4, 8, 8 }));
        Assert.That(output.Data, Has.All.Matches<float>(float.IsFinite));
    }
}
