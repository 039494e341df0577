using EdgeOpt.Onnx.IO;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Data;
using static EdgeOpt.Pipeline.Tests.Calibration.CalibrationTestKit;
using Tensor = EdgeOpt.Onnx.Ir.Tensor;

namespace EdgeOpt.Pipeline.Tests.Calibration;

public class OrtActivationProviderTests
{
    private static List<Sample> Samples(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new Sample($"s{i}", new Dictionary<string, Tensor> { ["x"] = Row("x", Uniform(8, -2, 2, 100 + i)) }, new Dictionary<string, Tensor>()))];

    [Test]
    public void Stream_InputsAndIntermediates_OnePerSampleInOrder()
    {
        var model = TensorSelectorTests.Model();
        var samples = Samples(3);
        var provider = new OrtActivationProvider(_ => samples, OrtSettings());

        var streamed = provider.Stream(model, ["x", "sum", "y"], CancellationToken.None).ToList();

        Assert.That(streamed.Select(s => s.Source), Is.EqualTo(new[] { "s0", "s1", "s2" }));
        for (var i = 0; i < 3; i++)
        {
            Assert.That(streamed[i]["x"].Data, Is.EqualTo(samples[i].Inputs["x"].ToArray<float>()), "graph inputs come from the sample");
            Assert.That(streamed[i]["sum"].Dims, Is.EqualTo(new long[] { 1, 6 }));
            Assert.That(streamed[i]["y"].Data, Is.EqualTo(streamed[i]["sum"].Data.Select(v => Math.Max(0, v))), "y = Relu(sum)");
        }
        Assert.That(provider.Runs, Is.EqualTo(3));
    }

    [Test]
    public void Stream_MaxSamples_StopsThereAndLeavesTheModelAlone()
    {
        var model = TensorSelectorTests.Model();
        var before = ModelWriter.ToBytes(model);
        var provider = new OrtActivationProvider(_ => Samples(5), OrtSettings(), maxSamples: 2);

        var streamed = provider.Stream(model, ["mm"], CancellationToken.None).ToList();

        Assert.That(streamed, Has.Count.EqualTo(2));
        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before));
    }

    [Test]
    public void Stream_UnknownTensor_SaysWhichName()
    {
        var provider = new OrtActivationProvider(_ => Samples(1), OrtSettings());

        Assert.That(() => provider.Stream(TensorSelectorTests.Model(), ["nope"], CancellationToken.None).ToList(),
            Throws.ArgumentException.With.Message.Contains("nope"));
    }
}
