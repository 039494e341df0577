using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.TestKit;
using static EdgeOpt.Pipeline.Tests.Calibration.CalibrationTestKit;

namespace EdgeOpt.Pipeline.Tests.Calibration;

public class ActivationOutputsTests
{
    [Test]
    public void Expose_AddsOutputs_InputModelUnchanged()
    {
        var model = TensorSelectorTests.Model();
        var before = ModelWriter.ToBytes(model);

        var augmented = ActivationOutputs.Expose(model, ["mm", "sum", "y"]);

        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before), "the input model is not touched");
        Assert.That(augmented.Graph.Outputs.Select(o => o.Name), Is.EqualTo(new[] { "y", "z", "shape", "mm", "sum" }), "y was an output already");
        var mm = augmented.Graph.Outputs.Single(o => o.Name == "mm").TensorType!;
        Assert.That((mm.ElementType, mm.Shape), Is.EqualTo((TensorDataType.Float, (IReadOnlyList<Dim>?)null)), "element type only: ONNX Runtime infers the shape");
    }

    [Test]
    public void Expose_Reloads()
    {
        var augmented = ActivationOutputs.Expose(TensorSelectorTests.Model(), ["mm"]);

        using var stream = new MemoryStream(ModelWriter.ToBytes(augmented));
        var reread = ModelReader.Read(stream);

        Assert.That(reread.Graph.Outputs.Select(o => o.Name), Does.Contain("mm"));
    }

    [Test]
    public void Expose_AnInputOrAWeight_Refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ActivationOutputs.Expose(TensorSelectorTests.Model(), ["b"]))!;
        Assert.That(e.Message, Does.Contain("'b'").And.Contain("constant"));
    }

    [Test]
    public void Augmented_RunsInOnnxRuntime_IntermediatesMatchTheMath()
    {
        var settings = OrtSettings();
        var model = TensorSelectorTests.Model();
        var augmented = ActivationOutputs.Expose(model, ["mm", "sum"]);
        var x = Uniform(8, -1, 1, seed: 3);

        using var runner = OrtModelRunner.Open(augmented, settings);
        var outputs = runner.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.Create("x", [1, 8], x) }, ["mm", "sum", "y"]);

        var wt = model.Graph.FindValue("wt")!.Initializer!.AsSpan<float>();
        var mm = outputs["mm"].AsSpan<float>();
        Assert.That(outputs["mm"].Dims, Is.EqualTo(new long[] { 1, 6 }));
        for (var j = 0; j < 6; j++)
        {
            var expected = 0.0;
            for (var k = 0; k < 8; k++) expected += x[k] * wt[j * 8 + k];
            Assert.That(mm[j], Is.EqualTo(expected).Within(1e-5));
        }
        var y = outputs["y"].AsSpan<float>();
        var sum = outputs["sum"].AsSpan<float>();
        for (var j = 0; j < 6; j++) Assert.That(y[j], Is.EqualTo(MathF.Max(sum[j], 0)));
    }

    [Test]
    public void RealModel_EveryActivationExposed_RunsInOnnxRuntime()
    {
        var settings = OrtSettings();
        var model = ModelReader.Read(TestPaths.RequireShared("models", "ultraface_rfb320.onnx"));
        var names = TensorSelector.Activations.Select(model).Where(t => !t.Value.IsGraphInput).Select(t => t.Name).ToList();

        var augmented = ActivationOutputs.Expose(model, names);
        using var runner = OrtModelRunner.Open(augmented, settings);
        var input = Tensor.Create("input", [1, 3, 240, 320], Uniform(3 * 240 * 320, -1, 1, seed: 4));
        var outputs = runner.Run(new Dictionary<string, Tensor> { ["input"] = input }, names);

        Assert.That(names, Has.Count.GreaterThan(50));
        Assert.That(outputs.Keys, Is.EquivalentTo(names));
        Assert.That(outputs.Values.All(t => t.DataType == TensorDataType.Float && t.ElementCount > 0), Is.True);
    }
}
