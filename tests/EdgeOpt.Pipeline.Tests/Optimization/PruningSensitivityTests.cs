using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Optimization;
using EdgeOpt.TestKit;
using static EdgeOpt.Pipeline.Tests.Calibration.CalibrationTestKit;
using Tensor = EdgeOpt.Onnx.Ir.Tensor;

namespace EdgeOpt.Pipeline.Tests.Optimization;

public class PruningSensitivityTests
{
    /// <summary>x[1,4,8,8] → Conv 'a' (8 out, 3×3) → Relu → Conv 'b' (6 out, 1×1) → y.</summary>
    private static Model ConvReluConv()
    {
        var g = new Graph("conv-relu-conv");
        var x = g.AddInput("x", TensorType.Of(TensorDataType.Float, 1, 4, 8, 8));
        var a = g.AddNode(OpTypes.Conv, [x, g.AddInitializer(Tensor.Create("wa", [8, 4, 3, 3], TinyModels.Random(8 * 4 * 9, 1)))], ["ha"]);
        a.Name = "a";
        a.SetAttribute(Onnx.Ir.Attribute.Ints("pads", 1, 1, 1, 1));
        var relu = g.AddNode(OpTypes.Relu, [a.Output()], ["hr"]);
        var b = g.AddNode(OpTypes.Conv, [relu.Output(), g.AddInitializer(Tensor.Create("wb", [6, 8, 1, 1], TinyModels.Random(6 * 8, 2)))], ["y"]);
        b.Name = "b";
        g.AddOutput(b.Output());
        return TinyModels.WithOpset(g, 13);
    }

    private static List<Sample> Samples(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new Sample($"s{i}",
            new Dictionary<string, Tensor> { ["x"] = Tensor.Create("x", [1, 4, 8, 8], Uniform(256, -1, 1, 40 + i)) }, new Dictionary<string, Tensor>()))];

    [Test]
    public void Channels_EachLayerAloneAtEachRatio_SavingsGrowWithTheRatio_ModelUntouched()
    {
        var model = ConvReluConv();
        var before = ModelWriter.ToBytes(model);

        var table = PruningSensitivity.Measure(model, PruneMethod.Channels, Samples(3), OrtSettings(), [0.25, 0.5]);

        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before));
        Assert.That(table.Total, Is.EqualTo(8L * 4 * 9 * 64 + 6L * 8 * 64), "MACs of both convs at the sample's shape");
        var a = table.Layers.Single(l => l.Node == "a");
        Assert.That(a.SkipReason, Is.Null);
        Assert.That(a.Points.Select(p => p.Ratio), Is.EqualTo(new[] { 0.25, 0.5 }));
        // Removing 2 of a's 8 channels saves 2/8 of a's MACs and 2/8 of b's.
        Assert.That(a.Points[0].Saved, Is.EqualTo(2L * 4 * 9 * 64 + 6L * 2 * 64));
        Assert.That(a.Points[1].Saved, Is.GreaterThan(a.Points[0].Saved!.Value));
        Assert.That(a.Points.Select(p => p.Cosine), Has.All.LessThan(1.0).And.All.GreaterThan(0.0));
        Assert.That(table.Layers.Single(l => l.Node == "b").SkipReason, Does.Contain("output"), "b feeds the graph output");
    }

    [Test]
    public void Magnitude_ZeroedWeightsFollowTheSparsity()
    {
        var table = PruningSensitivity.Measure(ConvReluConv(), PruneMethod.Magnitude, Samples(2), OrtSettings(), [0.5, 0.9],
            magnitude: new PruneMagnitudeOptions { KeepFirstAndLastDense = false, MinElements = 1 });

        var a = table.Layers.Single(l => l.Node == "a");
        Assert.That(a.Points.Select(p => p.Saved), Is.EqualTo(new long?[] { 144, 259 }), "⌊s·288⌋ of a's 288 weights");
        Assert.That(a.Points[0].Cosine, Is.GreaterThan(a.Points[1].Cosine), "more zeros, more damage");
        Assert.That(table.Total, Is.EqualTo(288 + 48));
    }

    [Test]
    public void Choose_GreedyByLossPerSaving_ReachesTheTarget()
    {
        var table = new SensitivityTable(PruneMethod.Channels, 4, 100, [0.3, 0.5],
        [
            new LayerSensitivity("A", "Conv", [new(0.3, 0.99, 30), new(0.5, 0.95, 50)]),
            new LayerSensitivity("B", "Conv", [new(0.3, 0.999, 20), new(0.5, 0.998, 35)]),
            new LayerSensitivity("C", "Conv", [], "feeds a graph output"),
        ], 1);

        var (ratios, saving) = PruningSensitivity.Choose(table, 0.5);

        // B is cheapest per MAC at both steps (0.001/20, then 0.001/15); then A's first step (0.01/30) reaches 65 ≥ 50.
        Assert.That(ratios, Is.EquivalentTo(new Dictionary<string, double> { ["A"] = 0.3, ["B"] = 0.5 }));
        Assert.That(saving, Is.EqualTo(0.65).Within(1e-12));
    }

    [Test]
    public void Choose_TableRunsOut_ReturnsEverythingMeasuredWithTheLowerSaving()
    {
        var table = new SensitivityTable(PruneMethod.Channels, 1, 100, [0.5], [new LayerSensitivity("A", "Conv", [new(0.5, 0.9, 20)])], 1);

        var (ratios, saving) = PruningSensitivity.Choose(table, 0.5);

        Assert.That((ratios["A"], saving), Is.EqualTo((0.5, 0.2)));
    }

    [TestCase(0.0)]
    [TestCase(1.0)]
    public void Choose_TargetOutsideTheOpenInterval_Throws(double saving) =>
        Assert.That(() => PruningSensitivity.Choose(new SensitivityTable(PruneMethod.Channels, 1, 100, [0.5], [], 0), saving),
            Throws.ArgumentException.With.Message.Contains("(0, 1)"));
}
