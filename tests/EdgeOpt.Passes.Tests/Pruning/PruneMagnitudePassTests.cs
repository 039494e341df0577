using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;
using static EdgeOpt.Passes.Tests.Pruning.PruneModels;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary>Which weights <see cref="PruneMagnitudePass"/> zeroes, skips, and reports.</summary>
public class PruneMagnitudePassTests
{
    /// <summary>Every layer pruned: first/last kept off, no size floor, no size measurement.</summary>
    private static PruneMagnitudeOptions All(double sparsity = 0.5) =>
        new() { Sparsity = sparsity, KeepFirstAndLastDense = false, MinElements = 0, MeasureSize = false };

    private static float[] Weights(Model model, string node) => InputOf(model, node).ToSingles();

    /// <summary>Indices whose value became zero, and the largest original |w| among them vs the smallest kept.</summary>
    private static (int Zeroed, float MaxZeroed, float MinKept) Compare(float[] before, float[] after)
    {
        var zeroed = Enumerable.Range(0, before.Length).Where(i => after[i] == 0).ToList();
        var kept = Enumerable.Range(0, before.Length).Where(i => after[i] != 0).ToList();
        Assert.That(kept.Select(i => after[i]), Is.EqualTo(kept.Select(i => before[i])), "kept weights are unchanged");
        return (zeroed.Count, zeroed.Count == 0 ? 0 : zeroed.Max(i => Math.Abs(before[i])), kept.Count == 0 ? float.MaxValue : kept.Min(i => Math.Abs(before[i])));
    }

    [Test]
    public void Layer_EachWeightReachesTheSparsityWithItsSmallestWeights()
    {
        var model = GemmChain(3, 32);
        var before = Enumerable.Range(0, 3).Select(k => Weights(model, $"g{k}_node")).ToList();

        var report = PassChecks.RunAndCheck(new PruneMagnitudePass(All(0.5)), model);

        for (var k = 0; k < 3; k++)
        {
            var (zeroed, maxZeroed, minKept) = Compare(before[k], Weights(model, $"g{k}_node"));
            Assert.That(zeroed, Is.EqualTo(512));
            Assert.That(maxZeroed, Is.LessThanOrEqualTo(minKept));
        }
        Assert.That(report.Changes.Single(c => c.Target == "g1_node (Gemm)").Message, Does.Contain("sparsity 0.0% → 50.0%: 512 of 1,024 weights zero"));
    }

    [Test]
    public void Global_OneThresholdAcrossLayers()
    {
        var model = GemmChain(3, 32, 1f, 0.1f, 1f);
        var before = Enumerable.Range(0, 3).Select(k => Weights(model, $"g{k}_node")).ToList();

        new PruneMagnitudePass(All(0.5) with { Granularity = PruneGranularity.Global }).Run(model, PassContext.Default);

        var results = Enumerable.Range(0, 3).Select(k => Compare(before[k], Weights(model, $"g{k}_node"))).ToList();
        Assert.That(results.Sum(r => r.Zeroed), Is.EqualTo(1536));
        Assert.That(results.Max(r => r.MaxZeroed), Is.LessThanOrEqualTo(results.Min(r => r.MinKept)));
        Assert.That(results[1].Zeroed, Is.EqualTo(1024), "the small-weight layer goes entirely");
        Assert.That(results[0].Zeroed, Is.LessThan(512));
    }

    [Test]
    public void LayerSparsity_OverridesWithItsOwnThreshold()
    {
        var model = GemmChain(3, 32, 1f, 0.1f, 1f);
        var options = All(0.5) with { Granularity = PruneGranularity.Global, LayerSparsity = new Dictionary<string, double> { ["g1_node"] = 0.1 } };

        new PruneMagnitudePass(options).Run(model, PassContext.Default);

        Assert.That(Weights(model, "g1_node").Count(w => w == 0), Is.EqualTo(102));
        Assert.That(Weights(model, "g0_node").Count(w => w == 0) + Weights(model, "g2_node").Count(w => w == 0), Is.EqualTo(1024));
    }

    [Test]
    public void FirstAndLastLayers_StayDenseByDefault()
    {
        var model = GemmChain(3, 32);

        var report = new PruneMagnitudePass(new PruneMagnitudeOptions { MeasureSize = false }).Run(model, PassContext.Default);

        Assert.That(report.Changes.Select(c => c.Target), Is.EqualTo(new[] { "g1_node (Gemm)", "model" }));
        Assert.That(report.Skips.Select(s => s.Target), Is.EquivalentTo(new[] { "g0_node (Gemm)", "g2_node (Gemm)" }));
        Assert.That(report.Skips.Select(s => s.Message), Has.All.Contain("KeepFirstAndLastDense"));
    }

    [Test]
    public void IncludeAndExclude_PickTheLayers()
    {
        var model = GemmChain(3, 32);

        var report = new PruneMagnitudePass(All() with { ExcludeNodes = ["g1_node"], IncludeNodes = ["g0_node", "g2_node"] }).Run(model, PassContext.Default);

        Assert.That(report.Skips.Single(s => s.Target == "g1_node (Gemm)").Message, Does.Contain("ExcludeNodes"));
        Assert.That(Weights(model, "g1_node"), Has.None.EqualTo(0f));
        Assert.That(new PruneMagnitudePass(All() with { IncludeOpTypes = [OpTypes.MatMul] }).Run(GemmChain(2, 32), PassContext.Default).Changes, Is.Empty);
    }

    [Test]
    public void TinyWeights_AreSkipped()
    {
        var model = GemmChain(3, 8);

        var report = new PruneMagnitudePass(All() with { MinElements = 256 }).Run(model, PassContext.Default);

        Assert.That(report.Changes, Is.Empty);
        Assert.That(report.Skips.Select(s => s.Message), Has.All.Contain("64 weights < MinElements 256"));
    }

    [Test]
    public void SharedWeights_AreSkipped()
    {
        var b = new GraphBuilder();
        var w = b.Weight("w", 1, 32, 32);
        var h = b.Op(OpTypes.MatMul, [b.Input("x", 1, 32), w], "h");
        var model = b.Outputs(b.Op(OpTypes.MatMul, [h, w], "y")).Build();

        var report = new PruneMagnitudePass(All()).Run(model, PassContext.Default);

        Assert.That(report.Skips.Select(s => s.Message), Has.All.Contain("shared by 2"));
    }

    [Test]
    public void ConstantNodeWeight_BecomesAnInitializerNamedAfterTheNode()
    {
        var b = new GraphBuilder();
        var constant = b.Op(OpTypes.Constant, [], "wc", Attribute.FromTensor(AttrNames.Value, Tensor.Create("t", [32, 32], TinyModels.Random(1024, 3))));
        var model = b.Outputs(b.Op(OpTypes.MatMul, [b.Input("x", 1, 32), constant], "y")).Build();

        PassChecks.RunAndCheck(new PruneMagnitudePass(All()), model);

        Assert.That(model.Graph.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { OpTypes.MatMul }));
        Assert.That(model.Graph.Nodes[0].Input(1)!.Name, Is.EqualTo("y_node/pruned_weight"));
        Assert.That(Weights(model, "y_node").Count(v => v == 0), Is.EqualTo(512));
    }

    [Test]
    public void Convs_ArePrunedAndStillRun()
    {
        var model = ConvBnReluConv();
        var pruned = ModelReader.Copy(model);

        new PruneMagnitudePass(All(0.3)).Run(pruned, PassContext.Default);

        Assert.That(InputOf(pruned, "c1_node").ToSingles().Count(v => v == 0), Is.EqualTo(64));
        Assert.That(PruneOrt.Run(pruned)["y"].Shape, Is.EqualTo(new long[] { 1, 4, 8, 8 }));
    }

    [Test]
    public void SecondRun_ChangesNothing() => PassChecks.AssertIdempotent(new PruneMagnitudePass(All(0.6)), GemmChain(3, 32));

    [Test]
    public void Run_IsDeterministic() =>
        PassChecks.AssertDeterministic(new PruneMagnitudePass(All(0.7) with { Granularity = PruneGranularity.Global, SparseStorage = true }), () => GemmChain(3, 32, 1f, 0.5f, 2f));

    [Test]
    public void Summary_ReportsBytesAndDeflatedSizes()
    {
        var model = GemmChain(3, 64);
        var pass = new PruneMagnitudePass(All(0.9) with { MeasureSize = true });

        var report = pass.Run(model, PassContext.Default);

        var summary = pass.LastSummary!;
        Assert.That(summary.Layers, Has.Count.EqualTo(3));
        Assert.That(summary.Layers.Select(l => l.Sparsity), Has.All.EqualTo(0.9).Within(0.001));
        Assert.That(summary.DenseWeightBytes, Is.EqualTo(3 * 64 * 64 * 4));
        Assert.That(summary.StoredWeightBytes, Is.EqualTo(summary.DenseWeightBytes), "dense storage");
        Assert.That(summary.After!.Value.DeflatedBytes, Is.LessThan(summary.Before!.Value.DeflatedBytes * 0.5));
        Assert.That(report.Changes.Single(c => c.Target == "model").Message, Does.Contain("deflated"));
    }

    [TestCase(-0.1)]
    [TestCase(1.5)]
    public void Options_BadSparsity_IsRejected(double sparsity) =>
        Assert.Throws<ArgumentException>(() => _ = new PruneMagnitudePass(new PruneMagnitudeOptions { Sparsity = sparsity }));

    [Test]
    public void Options_UnknownIncludedOpType_IsRejected() =>
        Assert.That(new PruneMagnitudeOptions { IncludeOpTypes = ["Relu"] }.Validate(), Has.One.Contains("'Relu'"));
}
