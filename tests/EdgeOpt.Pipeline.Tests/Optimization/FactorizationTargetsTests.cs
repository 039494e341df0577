using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Optimization;
using EdgeOpt.TestKit;
using static EdgeOpt.Pipeline.Tests.Calibration.CalibrationTestKit;
using Tensor = EdgeOpt.Onnx.Ir.Tensor;

namespace EdgeOpt.Pipeline.Tests.Optimization;

/// <summary>
/// Rank selection by a MACs or latency target. Latency comes from a probe with a fixed cost model (not the machine), so the tests
/// say exactly which candidates count as faster: every conv costs 0.5 ms plus 1 ms per thousand weights. A 3×3 conv's spatial-SVD
/// factors are then much cheaper than the conv, while the two 1×1 factors of a 1×1 conv are not (the second node's fixed cost eats
/// the saving), as on real CPUs where small and 1×1 layers often gain nothing.
/// </summary>
public class FactorizationTargetsTests
{
    private static readonly PassCatalog Catalog = PassCatalog.CreateDefault();

    /// <summary>Fixed per-node costs, and every model it was asked to time.</summary>
    private sealed class CostModelProbe : ILatencyProbe
    {
        public List<Model> Timed { get; } = [];

        public string Label => "cost model";

        public IReadOnlyList<double> Time(IReadOnlyList<Model> models)
        {
            Timed.AddRange(models);
            return [.. models.Select(Cost)];
        }

        public static double Cost(Model m) =>
            m.Graph.Nodes.Where(n => n.OpType == OpTypes.Conv).Sum(n => 0.5 + n.Input(1)!.Constant!.ElementCount / 1000.0);
    }

    /// <summary>x[1,32,8,8] → Conv 'a' (32→32, 3×3, pad 1) → Relu → Conv 'b' (32→32, 1×1) → y.</summary>
    private static Model Model()
    {
        var g = new Graph("a-b");
        var x = g.AddInput("x", TensorType.Of(TensorDataType.Float, 1, 32, 8, 8));
        var a = g.AddNode(OpTypes.Conv, [x, g.AddInitializer(Tensor.Create("wa", [32, 32, 3, 3], TinyModels.Random(32 * 32 * 9, 1)))], ["ha"], "a");
        a.SetAttribute(Onnx.Ir.Attribute.Ints("pads", 1, 1, 1, 1));
        var relu = g.AddNode(OpTypes.Relu, [a.Output()], ["hr"]);
        var b = g.AddNode(OpTypes.Conv, [relu.Output(), g.AddInitializer(Tensor.Create("wb", [32, 32, 1, 1], TinyModels.Random(32 * 32, 2)))], ["y"], "b");
        g.AddOutput(b.Output());
        return TinyModels.WithOpset(g, 13);
    }

    private static List<Sample> Samples(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new Sample($"s{i}",
            new Dictionary<string, Tensor> { ["x"] = Tensor.Create("x", [1, 32, 8, 8], Uniform(32 * 64, -1, 1, 70 + i)) }, new Dictionary<string, Tensor>()))];

    private static IReadOnlyList<IPass> Templates(params ConvFactorization[] methods) =>
    [
        .. methods.Select(m => Catalog.Create(FactorizeConvPass.PassId, new FactorizeConvOptions { Method = m })),
        Catalog.Create(FactorizeSvdPass.PassId, new FactorizeSvdOptions()),
    ];

    [Test]
    public void Latency_CandidatesNotFasterAreDropped_TheOthersCarryTheirTimes()
    {
        var model = Model();
        var before = ModelWriter.ToBytes(model);
        var probe = new CostModelProbe();

        var table = FactorizationTargets.Measure(model, Templates(ConvFactorization.SpatialSvd), Samples(2), OrtSettings(), Catalog, RankObjective.Latency, probe);

        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before), "the model is never modified");
        var a = table.Layers.Single(l => l.Node == "a");
        var b = table.Layers.Single(l => l.Node == "b");
        Assert.That(a.LatencyMs, Is.EqualTo(0.5 + 9.216).Within(1e-9));
        Assert.That(a.Candidates, Is.Not.Empty);
        Assert.That(a.Candidates.Select(c => c.Method), Has.All.EqualTo("SpatialSvd"));
        Assert.That(a.Candidates.Select(c => c.LatencyMs!.Value), Has.All.LessThan(a.LatencyMs!.Value * (1 - FactorizationTargets.MinLatencyGain)));
        Assert.That(b.Candidates, Is.Empty, "two 1×1 factors cost more than one 1×1 conv under this cost model");
        Assert.That(b.NotFaster, Is.GreaterThan(0));
        Assert.That(table.ModelLatencyMs, Is.EqualTo(CostModelProbe.Cost(model)).Within(1e-9));
        Assert.That(table.LatencyLabel, Is.EqualTo("cost model"));
        // Every slice timed is a runnable model of its own: static inputs, one or two convs.
        Assert.That(probe.Timed.Take(probe.Timed.Count - 1).Select(m => m.Graph.Nodes.Count(n => n.OpType == OpTypes.Conv)), Has.All.InRange(1, 2));
        Assert.That(probe.Timed.SelectMany(m => m.Graph.Inputs).Select(i => i.TensorType!.StaticShape), Has.None.Null);
    }

    [Test]
    public void Latency_ChoiceSavesTheTargetShareOfTheModelsLatency()
    {
        var table = FactorizationTargets.Measure(Model(), Templates(ConvFactorization.SpatialSvd), Samples(2), OrtSettings(), Catalog, RankObjective.Latency,
            new CostModelProbe());

        var (chosen, predicted) = FactorizationTargets.Choose(table, 0.3);

        Assert.That(chosen.Keys, Is.EqualTo(new[] { "a" }), "only a's factors are faster");
        var saved = table.Layers.Single(l => l.Node == "a").LatencyMs!.Value - chosen["a"].LatencyMs!.Value;
        Assert.That(predicted, Is.EqualTo(saved / table.ModelLatencyMs!.Value).Within(1e-6));
        Assert.That(predicted, Is.GreaterThanOrEqualTo(0.3));
        var passes = FactorizationTargets.Passes(chosen, Catalog);
        var o = (FactorizeConvOptions)passes.Single().Options;
        Assert.That((o.IncludeNodes, o.Energy, o.Method), Is.EqualTo((new[] { "a" }, chosen["a"].Energy, ConvFactorization.SpatialSvd)));
    }

    [Test]
    public void Macs_WithoutAProbe_EveryLayerHasCandidates_AndTheChoiceMeetsTheShare()
    {
        var table = FactorizationTargets.Measure(Model(), Templates(ConvFactorization.SpatialSvd, ConvFactorization.Tucker2), Samples(2), OrtSettings(), Catalog);

        Assert.That(table.Layers.Select(l => l.Node), Is.EquivalentTo(new[] { "a", "b" }));
        Assert.That(table.Layers.All(l => l.Candidates.Count > 0 && l.LatencyMs == null && l.NotFaster == 0));
        Assert.That(table.Layers.Single(l => l.Node == "a").Candidates.Select(c => c.Method).Distinct(), Is.EquivalentTo(new[] { "SpatialSvd", "Tucker2" }),
            "both methods compete for the 3×3 conv");
        Assert.That(table.Macs, Is.EqualTo(32L * 32 * 9 * 64 + 32L * 32 * 64));

        var (chosen, predicted) = FactorizationTargets.Choose(table, 0.4);

        Assert.That(predicted, Is.GreaterThanOrEqualTo(0.4));
        var saved = chosen.Values.Sum(c => c.MacsSaved);
        Assert.That(saved / (double)table.Macs, Is.EqualTo(predicted).Within(1e-12));
    }

    [Test]
    public void Choose_NeverPicksADominatedCandidate_AndMapsBackToTheCandidate()
    {
        var pass = Catalog.Create(FactorizeSvdPass.PassId, new FactorizeSvdOptions());
        // "a": Tucker2 saves more with less loss than SpatialSvd (dominated); "b": one cheap candidate.
        var a = new RankLayer("a", "Conv", 1000, null,
            [new RankCandidate("SpatialSvd", 0.5, 0.90, 400, null, pass), new RankCandidate("Tucker2", 0.7, 0.95, 500, null, pass)], 0);
        var b = new RankLayer("b", "Conv", 1000, null, [new RankCandidate("Svd", 0.9, 0.999, 300, null, pass)], 0);
        var table = new RankTable(RankObjective.Macs, 1, 2000, null, null, [a, b], 5, 0);

        var (small, _) = FactorizationTargets.Choose(table, 0.1);
        var (large, predicted) = FactorizationTargets.Choose(table, 0.35);

        Assert.That(small.Keys, Is.EqualTo(new[] { "b" }), "b loses least per MAC saved");
        Assert.That(large["a"].Method, Is.EqualTo("Tucker2"), "the dominated SpatialSvd candidate is never chosen");
        Assert.That(predicted, Is.EqualTo(0.4).Within(1e-12));
    }

    [Test]
    public void Choose_SeesPastAnExpensiveFirstStep_ConvexHull()
    {
        var pass = Catalog.Create(FactorizeSvdPass.PassId, new FactorizeSvdOptions());
        // x's cheap-looking first step (100 saved for 0.05) hides a far better second one (1000 for 0.051): walking its plain
        // Pareto front, the greedy choice would take y's costly second step instead (total loss 0.2 rather than 0.081).
        var x = new RankLayer("x", "Conv", 1000, null, [new RankCandidate("Svd", 0.9, 0.95, 100, null, pass), new RankCandidate("Svd", 0.5, 0.949, 1000, null, pass)], 0);
        var y = new RankLayer("y", "Conv", 1000, null, [new RankCandidate("Svd", 0.9, 0.97, 600, null, pass), new RankCandidate("Svd", 0.5, 0.80, 1000, null, pass)], 0);
        var table = new RankTable(RankObjective.Macs, 1, 2000, null, null, [x, y], 5, 0);

        var (chosen, predicted) = FactorizationTargets.Choose(table, 0.5);

        Assert.That(chosen.ToDictionary(p => p.Key, p => p.Value.MacsSaved), Is.EquivalentTo(new Dictionary<string, long> { ["x"] = 1000, ["y"] = 600 }));
        Assert.That(predicted, Is.EqualTo(0.8).Within(1e-12));
    }

    [Test]
    public void Choose_LatencyTableWithoutModelLatency_Throws()
    {
        var table = new RankTable(RankObjective.Latency, 1, 1000, null, null, [], 5, 0);

        Assert.That(() => FactorizationTargets.Choose(table, 0.3), Throws.ArgumentException.With.Message.Contains("no model latency"));
    }

    [Test]
    public void Measure_LatencyObjectiveWithoutProbe_Throws()
    {
        Assert.That(() => FactorizationTargets.Measure(Model(), Templates(), Samples(1), OrtSettings(), Catalog, RankObjective.Latency),
            Throws.ArgumentException.With.Message.Contains("latency probe"));
    }

    [Test]
    public void DropSlower_ExcludesLayersWhoseFactorsAreNotFaster()
    {
        var model = Model();
        // Random weights keep no rank that saves at energy 0.9: a quarter of the full rank.
        IPass[] templates =
        [
            Catalog.Create(FactorizeConvPass.PassId, new FactorizeConvOptions { Method = ConvFactorization.SpatialSvd, RankRatio = 0.25 }),
            Catalog.Create(FactorizeSvdPass.PassId, new FactorizeSvdOptions { RankRatio = 0.25 }),
        ];

        var (passes, timings) = FactorizationTargets.DropSlower(model, templates, new Dictionary<string, long[]>(), new CostModelProbe(), Catalog);

        Assert.That(timings.Select(t => (t.Node, t.Kept)), Is.EquivalentTo(new[] { ("a", true), ("b", false) }));
        Assert.That(passes.Select(p => ((FactorizeOptions)p.Options).ExcludeNodes), Has.All.EqualTo(new[] { "b" }));
        var copy = ModelReader.Copy(model);
        new PassManager(passes).Run(copy);
        Assert.That(copy.Graph.Nodes.Count(n => n.Name == "b"), Is.EqualTo(1), "b is left alone");
        Assert.That(copy.Graph.Nodes.Any(n => n.Name == "a"), Is.False, "a is factorized");
    }
}
