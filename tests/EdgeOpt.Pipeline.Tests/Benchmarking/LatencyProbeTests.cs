using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.TestKit;
using static EdgeOpt.Pipeline.Tests.Calibration.CalibrationTestKit;
using Tensor = EdgeOpt.Onnx.Ir.Tensor;

namespace EdgeOpt.Pipeline.Tests.Benchmarking;

/// <summary><see cref="ModelSlice"/> (a piece of a model as a model) and <see cref="OrtLatencyProbe"/> (timing such pieces side by side).</summary>
public class LatencyProbeTests
{
    /// <summary>x[1,3,6,6] → Conv 'c1' (3→4, 3×3, pad 1, bias) → Relu 'r' → Conv 'c2' (4→2, 1×1) → y; plus Constant 'k' → Add 'side' (an unused side output).</summary>
    private static Model Model(bool dynamicBatch = false)
    {
        var g = new Graph("slice-me");
        var x = g.AddInput("x", dynamicBatch ? new TensorType(TensorDataType.Float, [Dim.Symbolic("N"), Dim.Of(3), Dim.Of(6), Dim.Of(6)]) : TensorType.Of(TensorDataType.Float, 1, 3, 6, 6));
        var c1 = g.AddNode(OpTypes.Conv, [x, g.AddInitializer(Tensor.Create("w1", [4, 3, 3, 3], TinyModels.Random(108, 1))), g.AddInitializer(Tensor.Create("b1", [4], TinyModels.Random(4, 2)))],
            ["h1"], "c1");
        c1.SetAttribute(Onnx.Ir.Attribute.Ints("pads", 1, 1, 1, 1));
        var r = g.AddNode(OpTypes.Relu, [c1.Output()], ["h2"], "r");
        var c2 = g.AddNode(OpTypes.Conv, [r.Output(), g.AddInitializer(Tensor.Create("w2", [2, 4, 1, 1], TinyModels.Random(8, 3)))], ["y"], "c2");
        g.AddOutput(c2.Output());
        return TinyModels.WithOpset(g, 13);
    }

    [Test]
    public void Slice_OfTheLastTwoNodes_ComputesWhatTheyComputeInTheModel()
    {
        var settings = OrtSettings();
        var model = Model();
        var shapes = ShapeInference.Infer(model);
        var x = Tensor.Create("x", [1, 3, 6, 6], Uniform(108, -1, 1, 9));
        using var full = OrtModelRunner.Open(ActivationOutputs.Expose(model, ["h1"]), settings);
        var expected = full.Run(new Dictionary<string, Tensor> { ["x"] = x }, ["h1", "y"]);

        var slice = ModelSlice.Extract(model, model.Graph.Nodes.Where(n => n.Name is "r" or "c2"), shapes);

        Assert.That(slice.Graph.Nodes.Select(n => n.Name), Is.EqualTo(new[] { "r", "c2" }));
        Assert.That(slice.Graph.Inputs.Select(i => i.ToString()), Is.EqualTo(new[] { "h1: float[1,4,6,6]" }));
        Assert.That(slice.Graph.Initializers.Select(i => i.Name), Is.EqualTo(new[] { "w2" }));
        Assert.That(slice.Graph.Outputs.Select(o => o.ToString()), Is.EqualTo(new[] { "y: float[1,2,6,6]" }));
        Assert.That(slice.Opsets, Is.EqualTo(model.Opsets));
        using var part = OrtModelRunner.Open(slice, settings);
        var actual = part.Run(new Dictionary<string, Tensor> { ["h1"] = expected["h1"] }, ["y"]);
        Assert.That(actual["y"].ToSingles(), Is.EqualTo(expected["y"].ToSingles()).Within(1e-6));
    }

    [Test]
    public void Slice_OfOneLayer_HasItsWeightsAsInitializersAndItsOutputAsTheOnlyOutput()
    {
        var model = Model();

        var slice = ModelSlice.Extract(model, [model.Graph.Nodes[0]], ShapeInference.Infer(model));

        Assert.That(slice.Graph.Initializers.Select(i => i.Name), Is.EqualTo(new[] { "w1", "b1" }));
        Assert.That(slice.Graph.Outputs.Select(o => o.ToString()), Is.EqualTo(new[] { "h1: float[1,4,6,6]" }));
        Assert.That(model.Graph.Nodes, Has.Count.EqualTo(3), "the model is untouched");
    }

    [Test]
    public void Slice_WithoutStaticShapes_SaysToGiveInputShapes()
    {
        var model = Model(dynamicBatch: true);

        Assert.That(() => ModelSlice.Extract(model, [model.Graph.Nodes[1]], ShapeInference.Infer(model)),
            Throws.ArgumentException.With.Message.Contains("no static shape").And.Message.Contains("--input-shape"));
        var fixedShapes = ShapeInference.Infer(model, new ShapeInferenceOptions { InputShapes = new Dictionary<string, long[]> { ["x"] = [2, 3, 6, 6] } });
        Assert.That(ModelSlice.Extract(model, [model.Graph.Nodes[1]], fixedShapes).Graph.Inputs[0].ToString(), Is.EqualTo("h1: float[2,4,6,6]"));
    }

    [Test]
    public void Slice_NodeOfAnotherModel_OrNone_Throws()
    {
        var model = Model();
        var other = Model();

        Assert.That(() => ModelSlice.Extract(model, [other.Graph.Nodes[0]], ShapeInference.Infer(model)), Throws.ArgumentException.With.Message.Contains("not in the model's main graph"));
        Assert.That(() => ModelSlice.Extract(model, [], ShapeInference.Infer(model)), Throws.ArgumentException.With.Message.Contains("at least one node"));
    }

    [Test]
    public void Probe_TimesEveryModel_InTheOrderGiven()
    {
        var model = Model();
        var shapes = ShapeInference.Infer(model);
        var probe = new OrtLatencyProbe(OrtSettings() with { IntraOpThreads = 1 }, new LatencyProbeOptions(Rounds: 2, RoundMilliseconds: 1, MinRuns: 2, Warmup: 1));
        Model[] models = [ModelSlice.Extract(model, [model.Graph.Nodes[0]], shapes), ModelSlice.Extract(model, [model.Graph.Nodes[2]], shapes), model];

        var times = probe.Time(models);

        Assert.That(times, Has.Count.EqualTo(3));
        Assert.That(times, Has.All.GreaterThan(0).And.All.LessThan(double.PositiveInfinity));
        Assert.That(probe.Label, Does.Contain("1 thread"));
        Assert.That(probe.Time([]), Is.Empty);
    }

    [TestCase(0, 1, 1, 0, "Rounds")]
    [TestCase(1, -1, 1, 0, "RoundMilliseconds")]
    [TestCase(1, 1, 0, 0, "MinRuns")]
    [TestCase(1, 1, 1, -1, "Warmup")]
    public void ProbeOptions_OutOfRange_Rejected(int rounds, double ms, int minRuns, int warmup, string field)
    {
        Assert.That(() => new OrtLatencyProbe(new RuntimeSettings(), new LatencyProbeOptions(rounds, ms, minRuns, warmup)),
            Throws.ArgumentException.With.Message.Contains(field));
    }
}
