using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Optimization;
using EdgeOpt.TestKit;
using static EdgeOpt.Pipeline.Tests.Calibration.CalibrationTestKit;
using Tensor = EdgeOpt.Onnx.Ir.Tensor;

namespace EdgeOpt.Pipeline.Tests.Optimization;

public class AccuracyFallbackTests
{
    private const int Features = 16;

    /// <summary>
    /// y = MatMul(MatMul(x, W1), W2) where x carries one huge feature (±1000) that W1 ignores (its row is zero) and small
    /// informative ones (±0.05): per-tensor int8 quantization of x (step ≈ 8) erases the small features, so quantizing
    /// 'first' destroys the output, while 'second' sees a well-behaved input and quantizes harmlessly.
    /// </summary>
    private static Model OutlierChain()
    {
        var g = new Graph("outlier-chain");
        var x = g.AddInput("x", TensorType.Of(TensorDataType.Float, 1, Features));
        var w1 = TinyModels.Random(Features * Features, 3);
        for (var j = 0; j < Features; j++) w1[j] = 0;
        var first = g.AddNode(OpTypes.MatMul, [x, g.AddInitializer(Tensor.Create("w1", [Features, Features], w1))], ["h"]);
        first.Name = "first";
        var second = g.AddNode(OpTypes.MatMul, [first.Output(), g.AddInitializer(Tensor.Create("w2", [Features, Features], TinyModels.Random(Features * Features, 4)))], ["y"]);
        second.Name = "second";
        g.AddOutput(second.Output());
        return TinyModels.WithOpset(g, 13);
    }

    private static List<Sample> Samples(int count, int seed, bool outlier = true)
    {
        var samples = new List<Sample>();
        for (var i = 0; i < count; i++)
        {
            var data = Uniform(Features, -0.05f, 0.05f, seed + i);
            if (outlier) data[0] = i % 2 == 0 ? 1000 : -1000;
            samples.Add(new Sample($"s{i}", new Dictionary<string, Tensor> { ["x"] = Row("x", data) }, new Dictionary<string, Tensor>()));
        }
        return samples;
    }

    private static (AccuracyFallback Stage, OrtCalibrationProvider Calibration) Stage(double cosine, int? maxFloat = null, bool outlier = true,
        SensitivityMethod method = SensitivityMethod.LeaveOneOut)
    {
        var settings = OrtSettings();
        var calibration = new OrtCalibrationProvider(_ => Samples(8, 10, outlier), new CalibrationOptions { Method = CalibrationMethod.MinMax, Settings = settings });
        var stage = new AccuracyFallback(
            pick => new QuantizeStaticPass(new QuantizeStaticOptions { ExcludeNodes = [.. pick.Float], IncludeNodes = [.. pick.Only ?? []] }),
            _ => Samples(6, 50, outlier),
            new FallbackOptions(new AccuracyTarget(AccuracyMetric.Cosine, cosine), settings, maxFloat, CostRuns: 3, Method: method));
        return (stage, calibration);
    }

    private static Model Apply(AccuracyFallback stage, OrtCalibrationProvider calibration, List<PassReport> reports)
    {
        var model = OutlierChain();
        return stage.Apply(ModelReader.Copy(model), model, new PassContext { Calibration = calibration }, reports);
    }

    [TestCase(SensitivityMethod.LeaveOneOut)]
    [TestCase(SensitivityMethod.Isolated)]
    public void OutlierInput_KeepsTheSensitiveNodeFloat_AndMeetsTheTarget(SensitivityMethod method)
    {
        var (stage, calibration) = Stage(0.99, method: method);
        var reports = new List<PassReport>();

        var model = Apply(stage, calibration, reports);

        var result = stage.LastResult!;
        Assert.That(result.MetricAllInt8, Is.LessThan(0.9), "quantizing 'first' erases the informative features");
        Assert.That(result.Met, Is.True);
        Assert.That(result.MetricFinal, Is.GreaterThanOrEqualTo(0.99));
        Assert.That(result.FloatNodes.Select(n => n.Node), Is.EqualTo(new[] { "first" }));
        Assert.That(result.Sensitivities[0].Node, Is.EqualTo("first"), "most harmful first");
        Assert.That(result.Sensitivities[0].Score, Is.GreaterThan(result.Sensitivities[1].Score));
        Assert.That(result.Method, Is.EqualTo(method));
        Assert.That(model.Graph.Nodes.Single(n => n.Name == "first").OpType, Is.EqualTo(OpTypes.MatMul), "kept float");
        Assert.That(model.Graph.Nodes.Where(n => n.OpType == "DequantizeLinear"), Is.Not.Empty, "'second' is still quantized");
        Assert.That(reports.Single().PassId, Is.EqualTo(QuantizeStaticPass.PassId));
        Assert.That(result.Cost, Is.Not.Null);
        Assert.That(result.Cost!.BytesFinal, Is.GreaterThan(0));
        Assert.That(calibration.Runs, Has.Count.LessThanOrEqualTo(2), "calibration is reused across candidates");
    }

    [Test]
    public void TargetMetAtOnce_NoSearch_NothingFloat()
    {
        var (stage, calibration) = Stage(0.99, outlier: false);

        Apply(stage, calibration, []);

        var result = stage.LastResult!;
        Assert.That(result.MetricAllInt8, Is.GreaterThanOrEqualTo(0.99), "without the outlier int8 is accurate");
        Assert.That((result.Met, result.FloatNodes.Count, result.Sensitivities.Count, result.Evaluations), Is.EqualTo((true, 0, 0, 1)));
        Assert.That(result.Cost, Is.Null);
    }

    [Test]
    public void UnreachableWithinMaxFloatNodes_ReportsMissedWithTheBestMeasured()
    {
        var (stage, calibration) = Stage(0.99, maxFloat: 0);

        Apply(stage, calibration, []);

        var result = stage.LastResult!;
        Assert.That(result.Met, Is.False);
        Assert.That(result.FloatNodes, Is.Empty);
        Assert.That(result.MetricFinal, Is.EqualTo(result.MetricAllInt8));
    }

    [TestCase("cosine=0.99", AccuracyMetric.Cosine, 0.99)]
    [TestCase("top1=1", AccuracyMetric.Top1, 1.0)]
    [TestCase(" COS = 0.5 ", AccuracyMetric.Cosine, 0.5)]
    public void Target_Parses(string text, AccuracyMetric metric, double value) =>
        Assert.That(AccuracyTarget.Parse(text), Is.EqualTo(new AccuracyTarget(metric, value)));

    [TestCase("sqnr=20", "cosine or top1")]
    [TestCase("cosine", "number in (0, 1]")]
    [TestCase("cosine=1.5", "number in (0, 1]")]
    [TestCase("top1=abc", "number in (0, 1]")]
    public void Target_Bad_SaysTheForm(string text, string expected) =>
        Assert.That(() => AccuracyTarget.Parse(text), Throws.ArgumentException.With.Message.Contains(expected));
}
