using System.Text.Json;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

/// <summary><c>edgeopt optimize --factorize</c>: the factorization passes through the command, with their per-layer records in the report.</summary>
public class OptimizeFactorizeTests
{
    private static string Ultraface => TestPaths.RequireShared("models", "ultraface_rfb320.onnx");

    [TestCase("spatial-svd")]
    [TestCase("tucker2")]
    public void ConvMethod_CutsMacsOfTheFactorizedLayersAndStillRuns(string method)
    {
        using var dir = new TempDir();
        var output = dir.File("uf.factorized.onnx");
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", Ultraface, "-o", output, "--factorize", method, "--energy", "0.9", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var f = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("factorization");
        Assert.That(f.GetProperty("layers").GetArrayLength(), Is.GreaterThan(0));
        Assert.That(f.GetProperty("macsAfter").GetInt64(), Is.LessThan(f.GetProperty("macsBefore").GetInt64()));
        var layer = f.GetProperty("layers")[0];
        Assert.That(layer.GetProperty("relativeError").GetDouble(), Is.GreaterThan(0).And.LessThan(1));
        Assert.That(f.GetProperty("skipped").EnumerateArray().Select(s => s.GetProperty("reason").GetString()), Has.Some.Contain("grouped conv"));
        TestPaths.RequireArtifact("onnxruntime");
        Assert.That(CliRunner.Run("verify", Ultraface, output, "--samples", "2").ExitCode, Is.EqualTo(ExitCodes.Ok));
    }

    private static double Cosine(string reference, string candidate, string data, TempDir dir)
    {
        var file = dir.File($"{Path.GetFileNameWithoutExtension(candidate)}.verify.json");
        var run = CliRunner.Run("verify", reference, candidate, "--data", data, "--json", file);
        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        return JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("summary").GetProperty("minCosine").GetDouble();
    }

    [Test]
    public void Svd_WithCalibrationData_RefitBeatsNoRefit()
    {
        TestPaths.RequireArtifact("onnxruntime");
        var model = TestPaths.RequireArtifact("models", "ppocr_mobile_v2_cls.onnx");
        var data = TestPaths.RequireShared("data", "ocr_cls");
        using var dir = new TempDir();
        var json = dir.File("report.json");
        var plainJson = dir.File("plain.json");
        string[] common = ["optimize", model, "--factorize", "svd", "--rank-ratio", "0.25", "--calibration-data", data];

        var refit = CliRunner.Run([.. common, "-o", dir.File("refit.onnx"), "--json", json]);
        var plain = CliRunner.Run([.. common, "-o", dir.File("plain.onnx"), "--no-refit", "--json", plainJson]);

        Assert.That(refit.ExitCode, Is.EqualTo(ExitCodes.Ok), refit.StdErr + refit.StdOut);
        Assert.That(plain.ExitCode, Is.EqualTo(ExitCodes.Ok), plain.StdErr + plain.StdOut);
        Assert.That(plain.StdOut, Does.Contain("refit: off (--no-refit)"));
        var f = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("factorization");
        var summary = f.GetProperty("refit")[0].GetProperty("summary");
        Assert.That(summary.GetProperty("on").GetBoolean(), Is.True);
        Assert.That(summary.GetProperty("samples").GetInt32(), Is.EqualTo(16));
        var layers = f.GetProperty("layers").EnumerateArray().Where(l => l.GetProperty("refit").ValueKind == JsonValueKind.True).ToList();
        Assert.That(layers, Is.Not.Empty);
        Assert.That(layers.All(l => l.GetProperty("outputErrorAfter").GetDouble() < l.GetProperty("outputErrorBefore").GetDouble()));
        var off = JsonDocument.Parse(File.ReadAllText(plainJson)).RootElement.GetProperty("factorization").GetProperty("refit")[0].GetProperty("summary");
        Assert.That(off.GetProperty("on").GetBoolean(), Is.False);
        Assert.That(Cosine(model, dir.File("refit.onnx"), data, dir), Is.GreaterThan(Cosine(model, dir.File("plain.onnx"), data, dir)));
    }

    /// <summary>
    /// hey_jarvis's Gemm layers see one row per sample: 8 calibration samples cannot refit a rank-72 factor's weights, so only its
    /// bias is corrected for the mean shift; judged on the other 8 samples.
    /// </summary>
    [Test]
    public void Svd_GemmHeadWithOneRowPerSample_BiasOnlyRefitBeatsNoRefitOnHeldOutSamples()
    {
        TestPaths.RequireArtifact("onnxruntime");
        var model = TestPaths.RequireArtifact("models", "openwakeword", "hey_jarvis_v0.1.onnx");
        var data = TestPaths.RequireShared("data", "speech_heads");
        using var dir = new TempDir();
        var calibration = SampleSplit(data, dir.File("cal"), 0, 8);
        var evaluation = SampleSplit(data, dir.File("eval"), 8, 16);
        var json = dir.File("report.json");
        string[] common = ["optimize", model, "--factorize", "svd", "--energy", "0.9", "--calibration-data", calibration];

        var refit = CliRunner.Run([.. common, "-o", dir.File("refit.onnx"), "--json", json]);
        var plain = CliRunner.Run([.. common, "-o", dir.File("plain.onnx"), "--no-refit"]);

        Assert.That(refit.ExitCode, Is.EqualTo(ExitCodes.Ok), refit.StdErr + refit.StdOut);
        Assert.That(plain.ExitCode, Is.EqualTo(ExitCodes.Ok), plain.StdErr + plain.StdOut);
        Assert.That(refit.StdOut, Does.Contain("bias only"));
        var layers = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("factorization").GetProperty("layers").EnumerateArray().ToList();
        Assert.That(layers, Is.Not.Empty);
        Assert.That(layers.Select(l => l.GetProperty("refitScope").GetString()), Is.All.EqualTo("bias-only"));
        Assert.That(layers.Select(l => l.GetProperty("refitDetail").GetString()), Is.All.Contain("8 calibration rows"));
        var with = Cosine(model, dir.File("refit.onnx"), evaluation, dir);
        var without = Cosine(model, dir.File("plain.onnx"), evaluation, dir);
        Assert.That(1 - with, Is.LessThan(0.5 * (1 - without)), $"held-out cosine {with:F4} with the mean-shift correction, {without:F4} without");
    }

    /// <summary>A folder holding copies of <paramref name="data"/>'s test_data_set_k for k in [from, to).</summary>
    private static string SampleSplit(string data, string folder, int from, int to)
    {
        for (var k = from; k < to; k++)
        {
            var target = Directory.CreateDirectory(Path.Combine(folder, $"test_data_set_{k}")).FullName;
            foreach (var file in Directory.GetFiles(Path.Combine(data, $"test_data_set_{k}"))) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
        return folder;
    }

    [Test]
    public void PruneFactorizeAndQuantize_InOneCommand_EachReportsAndTheModelRuns()
    {
        using var dir = new TempDir();
        var output = dir.File("uf.all.onnx");
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", Ultraface, "-o", output, "--prune", "channels", "--channel-ratio", "0.2", "--factorize", "spatial-svd",
            "--energy", "0.9", "--quantize", "dynamic", "--dynamic-conv", "weight-only", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.That(root.GetProperty("pruning").ValueKind, Is.EqualTo(JsonValueKind.Object));
        Assert.That(root.GetProperty("factorization").GetProperty("layers").GetArrayLength(), Is.GreaterThan(0));
        Assert.That(root.GetProperty("quantizedNodes").GetArrayLength(), Is.GreaterThan(0));
        var order = root.GetProperty("passes").EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToList();
        Assert.That(order.IndexOf("prune-channels"), Is.LessThan(order.IndexOf("factorize-conv")));
        Assert.That(order.IndexOf("factorize-conv"), Is.LessThan(order.IndexOf("quantize-dynamic")));
        TestPaths.RequireArtifact("onnxruntime");
        Assert.That(CliRunner.Run("verify", Ultraface, output, "--samples", "1").ExitCode, Is.EqualTo(ExitCodes.Ok));
    }

    [Test]
    public void NoFactorize_NoSection()
    {
        using var dir = new TempDir();
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", Ultraface, "-o", dir.File("uf.onnx"), "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        Assert.That(JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("factorization").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [TestCase(new[] { "--factorize", "qr" }, "is not svd, tucker2")]
    [TestCase(new[] { "--target-latency", "0.7" }, "add --factorize")]
    [TestCase(new[] { "--skip-slower" }, "add --factorize")]
    [TestCase(new[] { "--factorize", "auto", "--target-latency", "0.7", "--target-macs", "0.5" }, "give one")]
    [TestCase(new[] { "--factorize", "auto", "--target-latency", "1.2", "--calibration-data", "." }, "share in (0, 1)")]
    [TestCase(new[] { "--factorize", "auto", "--target-latency", "0.7" }, "add --calibration-data")]
    [TestCase(new[] { "--factorize", "auto", "--skip-slower", "--ep", "cpu", "--target", "x64-cpu" }, "drop --ep")]
    [TestCase(new[] { "--factorize", "auto", "--skip-slower", "--target", "no-such-board" }, "no-such-board")]
    [TestCase(new[] { "--factorize", "svd", "--energy", "0.9", "--rank-ratio", "0.2" }, "give one")]
    [TestCase(new[] { "--factorize", "svd", "--ops", "Relu" }, "--ops 'Relu'")]
    [TestCase(new[] { "--factorize", "svd", "--energy", "1.5" }, "Energy must be in (0, 1]")]
    [TestCase(new[] { "--factorize", "tucker2", "--rank-multiple", "0" }, "RankMultiple must be ≥ 1")]
    public void BadOptions_ExitWithUsageError(string[] options, string message)
    {
        using var dir = new TempDir();

        var run = CliRunner.Run(["optimize", Ultraface, "-o", dir.File("out.onnx"), .. options]);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.StdOut);
        Assert.That(run.StdErr, Does.Contain(message));
        Assert.That(File.Exists(dir.File("out.onnx")), Is.False, "a failed command writes nothing");
    }

    [Test]
    public void TargetMacs_ChoosesPerLayerEnergies_AndReachesTheTarget()
    {
        TestPaths.RequireArtifact("onnxruntime");
        var model = TestPaths.RequireArtifact("models", "ppocrv4_det.onnx");
        using var dir = new TempDir();
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", model, "-o", dir.File("out.onnx"), "--factorize", "spatial-svd", "--target-macs", "0.5",
            "--calibration-data", TestPaths.RequireShared("data", "ocr_det"), "--sensitivity-samples", "1", "--no-refit", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        Assert.That(run.StdOut, Does.Contain("rank sensitivity"));
        var f = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("factorization");
        var kept = f.GetProperty("macsAfter").GetInt64() / (double)f.GetProperty("macsBefore").GetInt64();
        Assert.That(kept, Is.LessThanOrEqualTo(0.5 + 1e-9), "the factorized layers keep at most half their MACs");
        var selection = f.GetProperty("rankSelection");
        Assert.That(selection.GetProperty("objective").GetString(), Is.EqualTo("macs"));
        Assert.That(selection.GetProperty("measured").ValueKind, Is.EqualTo(JsonValueKind.Null), "nothing is timed for a MACs target");
        Assert.That(selection.GetProperty("measuredCosine").GetDouble(), Is.GreaterThan(0).And.LessThanOrEqualTo(1 + 1e-9));
        Assert.That(f.GetProperty("layers").GetArrayLength(), Is.GreaterThan(0));
    }

    [Test]
    public void TargetLatency_Auto_ChoosesTimedCandidatesThatAreFaster_AndMeasuresTheResult()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", Ultraface, "-o", dir.File("out.onnx"), "--factorize", "auto", "--target-latency", "0.9",
            "--calibration-data", TestPaths.RequireShared("data", "ultraface_rfb320"), "--sensitivity-samples", "1", "--no-refit", "--threads", "1", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var printed = System.Text.RegularExpressions.Regex.Replace(run.StdOut, @"\s+", " ");
        Assert.That(printed, Does.Contain("timed on cpu, 1 thread").And.Contain("latency on cpu, 1 thread"));
        var f = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("factorization");
        var selection = f.GetProperty("rankSelection");
        Assert.That(selection.GetProperty("objective").GetString(), Is.EqualTo("latency"));
        Assert.That(selection.GetProperty("modelLatencyMs").GetDouble(), Is.GreaterThan(0));
        Assert.That(selection.GetProperty("measuredCosine").GetDouble(), Is.GreaterThan(0).And.LessThanOrEqualTo(1 + 1e-9));
        Assert.That(selection.GetProperty("predictedCosine").GetDouble(), Is.LessThanOrEqualTo(1));
        Assert.That(printed, Does.Contain("fidelity on the 1 sensitivity samples"));
        var measured = selection.GetProperty("measured");
        Assert.That(measured.GetProperty("beforeMs").GetDouble(), Is.GreaterThan(0));
        Assert.That(measured.GetProperty("afterMs").GetDouble(), Is.GreaterThan(0));
        var layers = selection.GetProperty("layers").EnumerateArray().ToList();
        // Every candidate kept is faster than its layer; both k×k methods and svd competed.
        foreach (var layer in layers)
        {
            var own = layer.GetProperty("latencyMs").GetDouble();
            Assert.That(layer.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("latencyMs").GetDouble()), Has.All.LessThan(own), layer.GetProperty("node").GetString());
        }
        Assert.That(layers.SelectMany(l => l.GetProperty("candidates").EnumerateArray()).Select(c => c.GetProperty("method").GetString()).Distinct(),
            Is.SupersetOf(new[] { "SpatialSvd", "Tucker2" }));
        var chosen = layers.Where(l => l.GetProperty("chosen").ValueKind == JsonValueKind.Object).Select(l => l.GetProperty("node").GetString()).ToList();
        Assert.That(chosen, Is.Not.Empty);
        Assert.That(f.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("node").GetString()), Is.EquivalentTo(chosen),
            "exactly the chosen layers are factorized");
    }

    [Test]
    public void SkipSlower_LeavesAloneTheLayersWhoseFactorsAreNotFaster()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", Ultraface, "-o", dir.File("out.onnx"), "--factorize", "svd", "--ops", "Conv", "--energy", "0.9", "--skip-slower",
            "--threads", "1", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        Assert.That(run.StdOut, Does.Contain("skip-slower:"));
        var f = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("factorization");
        var timings = f.GetProperty("layerTimings").EnumerateArray().ToList();
        Assert.That(timings, Is.Not.Empty);
        foreach (var t in timings)
        {
            Assert.That(t.GetProperty("kept").GetBoolean(), Is.EqualTo(t.GetProperty("factorizedMs").GetDouble() < t.GetProperty("originalMs").GetDouble() * 0.97));
        }
        var factorized = f.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("node").GetString()).ToList();
        Assert.That(factorized, Is.EquivalentTo(timings.Where(t => t.GetProperty("kept").GetBoolean()).Select(t => t.GetProperty("node").GetString())));
    }

    [Test]
    public void SkipSlower_DynamicInputWithoutAShape_SaysWhichShapeToGive()
    {
        var model = TestPaths.RequireArtifact("models", "ppocrv4_det.onnx");
        using var dir = new TempDir();

        var run = CliRunner.Run("optimize", model, "-o", dir.File("o.onnx"), "--factorize", "spatial-svd", "--skip-slower");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.StdOut);
        Assert.That(System.Text.RegularExpressions.Regex.Replace(run.StdErr, @"\s+", " "), Does.Contain("concrete shape for input 'x'").And.Contain("--input-shape x=DIMS"));
        Assert.That(File.Exists(dir.File("o.onnx")), Is.False);
    }

    [Test]
    public void TargetMacs_WithBothPruneAndFactorize_UsageError()
    {
        using var dir = new TempDir();

        var run = CliRunner.Run("optimize", TestPaths.RequireShared("models", "ultraface_rfb320.onnx"), "-o", dir.File("o.onnx"), "--prune", "channels",
            "--factorize", "svd", "--target-macs", "0.5");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("not both"));
    }
}
