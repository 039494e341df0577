using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Runtime;
using EdgeOpt.TestKit;

namespace EdgeOpt.Passes.Tests.Quantization;

/// <summary>
/// Real models after the cleanup passes, quantized in each form: ONNX Runtime loads and runs the result (all graph
/// optimizations on, i.e. the fused int8 kernels) and its outputs stay close to the float model's on held-out seeded inputs
/// in the model's input range; calibration is min/max over four other seeded inputs. Bounds (minimum cosine over every
/// output): weight-only 0.995, dynamic 0.98, static 0.95 (int8 activations through 8–50 layers, random inputs).
/// Size: the initializers a pass replaced take at most 0.42 of their float bytes afterwards (int8 codes are ¼; per-channel
/// scales and int32 biases add the rest, most on depthwise convs with 9 weights per channel), and the file is smaller. mnist-8's
/// largest weight reaches its MatMul through a Reshape (not a constant), so it stays float there.
/// </summary>
public class RealModelQuantizationTests
{
    public static IEnumerable<TestCaseData> Models()
    {
        yield return new TestCaseData("mnist-8", new long[] { 1, 1, 28, 28 }, 0f, 1f).SetName("{m}(mnist-8)");
        yield return new TestCaseData("ppocr_mobile_v2_cls", new long[] { 1, 3, 48, 192 }, -1f, 1f).SetName("{m}(ppocr_mobile_v2_cls)");
        yield return new TestCaseData("ultraface_rfb320", new long[] { 1, 3, 240, 320 }, -1f, 1f).SetName("{m}(ultraface_rfb320)");
    }

    [TestCaseSource(nameof(Models))]
    public void DynamicConvInteger_RunsAgreesAndShrinks(string name, long[] shape, float low, float high) =>
        Check(name, shape, low, high, new QuantizeDynamicPass(new QuantizeDynamicOptions { Conv = DynamicConvMode.Integer, UpgradeOpset = true }), 0.98, 0.42);

    [TestCaseSource(nameof(Models))]
    public void WeightOnly_RunsAgreesAndShrinks(string name, long[] shape, float low, float high) =>
        Check(name, shape, low, high, new QuantizeDynamicPass(new QuantizeDynamicOptions { WeightOnly = true }), 0.995, 0.42);

    [TestCaseSource(nameof(Models))]
    public void StaticQdqU8_RunsAgreesAndShrinks(string name, long[] shape, float low, float high) =>
        Check(name, shape, low, high, calibration => new QuantizeStaticPass(new QuantizeStaticOptions { Calibration = calibration, UpgradeOpset = true }), 0.95, 0.42);

    [TestCaseSource(nameof(Models))]
    public void StaticQOperatorS8_RunsAgreesAndShrinks(string name, long[] shape, float low, float high) =>
        Check(name, shape, low, high, calibration => new QuantizeStaticPass(new QuantizeStaticOptions
        {
            Calibration = calibration, Format = QuantFormat.QOperator, ActivationType = QuantType.S8, UpgradeOpset = true,
        }), 0.95, 0.42);

    private static void Check(string name, long[] shape, float low, float high, IPass pass, double minCosine, double maxWeightRatio) =>
        Check(name, shape, low, high, _ => pass, minCosine, maxWeightRatio);

    private static void Check(string name, long[] shape, float low, float high, Func<CalibrationTable, IPass> makePass, double minCosine, double maxWeightRatio)
    {
        var reference = Load(name);
        var input = reference.Graph.Inputs.Single(i => !i.IsInitializer).Name;
        var shapes = new Dictionary<string, long[]> { [input] = shape };
        Feed Feed(int seed) => QuantOrt.RandomFeed(reference, seed, low, high, shapes);
        var calibration = QuantOrt.Calibrate(reference, [.. Enumerable.Range(1, 4).Select(Feed)]);
        var quantized = ModelReader.Copy(reference);
        var pass = makePass(calibration);

        var report = pass.Run(quantized, PassContext.Default);

        Assert.That(quantized.Graph.SortTopologically(), Is.Empty);
        Onnx.Validation.ModelValidator.ThrowIfInvalid(quantized, pass.Id);
        Assert.That(quantized.Graph.Inputs.Select(i => i.Name), Is.EqualTo(reference.Graph.Inputs.Select(i => i.Name)));
        Assert.That(quantized.Graph.Outputs.Select(o => (o.Name, o.TensorType?.ElementType)), Is.EqualTo(reference.Graph.Outputs.Select(o => (o.Name, o.TensorType?.ElementType))));
        var fileRatio = (double)ModelWriter.ToBytes(quantized).Length / ModelWriter.ToBytes(reference).Length;
        var weightRatio = ReplacedWeightRatio(reference, quantized);
        var cosine = QuantOrt.MinCosine(reference, quantized, Enumerable.Range(50, 2).Select(Feed), GraphOptimizationLevel.All);
        TestContext.Out.WriteLine($"{name} {pass.Id}: cosine {cosine:F5}, file {fileRatio:F3}, replaced weights {weightRatio:F3}; {report.Changes.LastOrDefault() ?? report.Skips.Last()}");
        foreach (var skip in report.Skips.Take(8)) TestContext.Out.WriteLine($"  skipped {skip}");
        Assert.That(cosine, Is.GreaterThanOrEqualTo(minCosine));
        Assert.That(weightRatio, Is.LessThanOrEqualTo(maxWeightRatio), "bytes of the new initializers / float bytes of the ones they replaced");
        Assert.That(fileRatio, Is.LessThan(name == "mnist-8" ? 0.9 : 0.6), "serialized size / float size");
    }

    /// <summary>Bytes of initializers only <paramref name="quantized"/> has over bytes of those only <paramref name="reference"/> has.</summary>
    private static double ReplacedWeightRatio(Model reference, Model quantized)
    {
        var before = reference.Graph.Initializers.ToDictionary(v => v.Name, v => v.Initializer!.ByteCount);
        var after = quantized.Graph.Initializers.ToDictionary(v => v.Name, v => v.Initializer!.ByteCount);
        var removed = before.Where(kv => !after.ContainsKey(kv.Key)).Sum(kv => kv.Value);
        var added = after.Where(kv => !before.ContainsKey(kv.Key)).Sum(kv => kv.Value);
        return removed == 0 ? 1 : (double)added / removed;
    }

    /// <summary>The model after the exact cleanup passes (initializers that are also inputs made constant, as the pipeline does).</summary>
    private static Model Load(string name)
    {
        var path = name == "ppocr_mobile_v2_cls"
            ? TestPaths.RequireArtifact("models", name + ".onnx")
            : TestPaths.RequireShared("models", name + ".onnx");
        var model = ModelReader.Read(path);
        var catalog = PassCatalog.CreateDefault();
        new PassManager([catalog.Create(RemoveInitializerInputsPass.PassId), .. PassCatalog.CleanupSequence.Select(id => catalog.Create(id))]).Run(model);
        return model;
    }
}
