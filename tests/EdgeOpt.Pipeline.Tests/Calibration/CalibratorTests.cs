using System.Numerics.Tensors;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Data.Images;
using EdgeOpt.TestKit;
using static EdgeOpt.Pipeline.Tests.Calibration.CalibrationTestKit;
using Tensor = EdgeOpt.Onnx.Ir.Tensor;

namespace EdgeOpt.Pipeline.Tests.Calibration;

public class CalibratorTests
{
    private static List<Sample> Samples(int count, int seed = 100) =>
        [.. Enumerable.Range(0, count).Select(i => new Sample($"s{i}", new Dictionary<string, Tensor> { ["x"] = Row("x", Uniform(8, -2, 2, seed + i)) }, new Dictionary<string, Tensor>()))];

    private static CalibrationOptions Options(CalibrationMethod method = CalibrationMethod.MinMax) => new() { Method = method, Settings = OrtSettings() };

    [Test]
    public void MinMax_TinyModel_RangesAreTheExtremesOfEveryTensor()
    {
        var model = TensorSelectorTests.Model();
        var samples = Samples(5);

        var table = Calibrator.Run(model, samples, Options());

        Assert.That((table.Method, table.Samples), Is.EqualTo(("minmax", 5)));
        Assert.That(table.Ranges.Keys, Is.EqualTo(new[] { "x", "mm", "sum", "y", "z" }));
        var inputs = samples.SelectMany(s => s.Inputs["x"].ToArray<float>()).ToArray();
        Assert.That(table.Ranges["x"], Is.EqualTo(new TensorRange(inputs.Min(), inputs.Max())));
        Assert.That(table.Ranges["y"].Min, Is.Zero, "Relu output");
        Assert.That(table.Ranges["z"].Min, Is.GreaterThanOrEqualTo(0.5f), "Sigmoid of a Relu output");
    }

    [Test]
    public void InputModel_Untouched()
    {
        var model = TensorSelectorTests.Model();
        var before = ModelWriter.ToBytes(model);

        Calibrator.Run(model, Samples(2), Options(CalibrationMethod.Percentile));

        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before));
    }

    [Test]
    public void SameInputs_SameTable()
    {
        var model = TensorSelectorTests.Model();

        var first = Calibrator.Run(model, Samples(6), Options(CalibrationMethod.Entropy));
        var second = Calibrator.Run(model, Samples(6), Options(CalibrationMethod.Entropy));

        Assert.That(second.Ranges, Is.EqualTo(first.Ranges));
    }

    [Test]
    public void Collect_OnePass_TablesForEveryHistogramMethod()
    {
        var statistics = Calibrator.Collect(TensorSelectorTests.Model(), Samples(4), Options(CalibrationMethod.Percentile));

        foreach (var method in CalibrationMethods.All)
        {
            var table = statistics.ToTable(Options(method));
            Assert.That(table.Method, Is.EqualTo(CalibrationMethods.Name(method)));
            Assert.That(table.Ranges, Has.Count.EqualTo(5));
            Assert.That(table.Ranges.Values.All(r => r.Min <= r.Max), Is.True, CalibrationMethods.Name(method));
        }
        Assert.That(statistics.Samples, Is.EqualTo(4));
        Assert.That(statistics.Unobserved, Is.Empty);
    }

    [Test]
    public void Progress_ReportsEverySample()
    {
        var reports = new List<CalibrationProgress>();

        Calibrator.Run(TensorSelectorTests.Model(), Samples(3), Options(), new SynchronousProgress(reports.Add));

        Assert.That(reports.Select(r => (r.Done, r.Total, r.Sample)), Is.EqualTo(new[] { (1, 3, "s0"), (2, 3, "s1"), (3, 3, "s2") }));
    }

    [Test]
    public void MaxSamples_StopsEarly_WithoutReadingFurther()
    {
        var read = 0;
        IEnumerable<Sample> Counted()
        {
            foreach (var s in Samples(10))
            {
                read++;
                yield return s;
            }
        }

        var table = Calibrator.Run(TensorSelectorTests.Model(), Counted(), Options() with { MaxSamples = 2 });

        Assert.That((table.Samples, read), Is.EqualTo((2, 2)));
    }

    [Test]
    public void OnlyGraphInputsSelected_NoRunNeeded()
    {
        var options = Options() with { Selector = TensorSelector.Named(["x"]) };

        var table = Calibrator.Run(TensorSelectorTests.Model(), Samples(2), options);

        Assert.That(table.Ranges.Keys, Is.EqualTo(new[] { "x" }));
    }

    [Test]
    public void NoSamples_ClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => Calibrator.Run(TensorSelectorTests.Model(), [], Options()))!;
        Assert.That(e.Message, Does.Contain("no calibration samples"));
    }

    [Test]
    public void SampleWithoutAnInput_ErrorNamesTheSample()
    {
        var bad = new Sample("bad.npy", new Dictionary<string, Tensor> { ["other"] = Row("other", new float[8]) }, new Dictionary<string, Tensor>());

        var e = Assert.Throws<ArgumentException>(() => Calibrator.Run(TensorSelectorTests.Model(), [bad], Options()))!;

        Assert.That(e.Message, Does.Contain("'bad.npy'").And.Contain("'x'"));
    }

    [Test]
    public void InvalidOptions_RefusedBeforeRunning()
    {
        var e = Assert.Throws<ArgumentException>(() => Calibrator.Run(TensorSelectorTests.Model(), Samples(1), new CalibrationOptions { Bins = 1 }))!;
        Assert.That(e.Message, Does.Contain("bins"));
    }

    [Test]
    public void PpOcrDetection_SharedData_RangesForEveryActivation()
    {
        var settings = OrtSettings();
        var modelPath = TestPaths.RequireArtifact("models", "ppocrv4_det.onnx");
        var model = ModelReader.Read(modelPath);
        var source = CalibrationSource.Open(TestPaths.RequireShared("data", "ocr_det"), model);

        var statistics = Calibrator.Collect(model, source, new CalibrationOptions { Method = CalibrationMethod.Percentile, Settings = settings });
        var percentile = statistics.ToTable(new CalibrationOptions { Method = CalibrationMethod.Percentile });
        var minmax = statistics.ToTable(new CalibrationOptions { Method = CalibrationMethod.MinMax });

        var expected = TensorSelector.Activations.Select(model).Select(t => t.Name).ToList();
        Assert.That(percentile.Samples, Is.EqualTo(4));
        Assert.That(percentile.Ranges.Keys, Is.EquivalentTo(expected));
        Assert.That(expected, Has.Count.GreaterThan(100));
        var inputs = source.SelectMany(s => s.Inputs["x"].ToArray<float>()).ToArray();
        Assert.That(minmax.Ranges["x"], Is.EqualTo(new TensorRange(TensorPrimitives.Min(inputs), TensorPrimitives.Max(inputs))));
        var probability = percentile.Ranges["sigmoid_0.tmp_0"];
        Assert.That(probability.Min >= 0 && probability.Max <= 1, Is.True, $"a sigmoid output: {probability}");
        foreach (var (name, range) in percentile.Ranges)
        {
            Assert.That(float.IsFinite(range.Min) && float.IsFinite(range.Max) && range.Min <= range.Max, Is.True, name);
            Assert.That(range.Max, Is.LessThanOrEqualTo(minmax.Ranges[name].Max), name);
            Assert.That(range.Min, Is.GreaterThanOrEqualTo(minmax.Ranges[name].Min), name);
        }
    }

    [Test]
    public void UltraFace_SharedData_FromThePath_EntropyRangesInsideMinMax()
    {
        var settings = OrtSettings();
        var path = TestPaths.RequireShared("models", "ultraface_rfb320.onnx");
        var model = ModelReader.Read(path);
        var source = CalibrationSource.Open(TestPaths.RequireShared("data", "ultraface_rfb320"), model);

        var entropy = Calibrator.Run(path, source, new CalibrationOptions { Method = CalibrationMethod.Entropy, Settings = settings });
        var minmax = Calibrator.Run(path, source, new CalibrationOptions { Settings = settings });

        Assert.That(entropy.Ranges.Keys, Is.EquivalentTo(minmax.Ranges.Keys));
        Assert.That(entropy.Ranges.Keys, Does.Contain("input").And.Contain("scores").And.Contain("boxes"));
        var clipped = entropy.Ranges.Count(p => p.Value.Max < minmax.Ranges[p.Key].Max);
        Assert.That(clipped, Is.GreaterThan(0), "entropy clips some activation tails");
        Assert.That(entropy.Ranges.All(p => p.Value.Max <= minmax.Ranges[p.Key].Max && p.Value.Min >= minmax.Ranges[p.Key].Min), Is.True);
    }

    [Test]
    public void FastestDet_ImageFolder_SameInputAsTheStoredSample()
    {
        var settings = OrtSettings();
        var model = ModelReader.Read(TestPaths.RequireShared("models", "fastestdet.onnx"));
        using var dir = new TempFolder();
        File.Copy(TestPaths.RequireShared("models", "fastestdet_wolves_sample.png"), Path.Combine(dir.Path, "wolves.png"));
        var stored = TestDataSets.LoadSet(TestPaths.RequireShared("data", "fastestdet", "test_data_set_0"), model.Graph.Inputs, []);

        var source = CalibrationSource.Open(dir.Path, model, ImagePreprocess.Parse("scale=1/255,channels=bgr,layout=nchw"));
        var fed = source.Single().Inputs["input"];
        var table = Calibrator.Run(model, source, new CalibrationOptions { Method = CalibrationMethod.Percentile, Settings = settings });

        var difference = new float[fed.ElementCount];
        TensorPrimitives.Subtract(fed.AsSpan<float>(), stored.Inputs["input"].AsSpan<float>(), difference);
        Assert.That(fed.Dims, Is.EqualTo(new long[] { 1, 3, 352, 352 }), "resized to the model's input without resize= in the spec");
        Assert.That(TensorPrimitives.MaxMagnitude(difference), Is.LessThanOrEqualTo(1 / 255f + 1e-6f), "PIL-compatible resize: at most one 8-bit step from the stored input");
        Assert.That(table.Ranges["input"].Min, Is.GreaterThanOrEqualTo(0));
        Assert.That(table.Ranges["output"].Max, Is.LessThanOrEqualTo(352));
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<CalibrationProgress> report) : IProgress<CalibrationProgress>
    {
        public void Report(CalibrationProgress value) => report(value);
    }
}
