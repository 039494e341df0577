using System.Text.Json;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

/// <summary><c>edgeopt optimize --prune</c>: the passes through the command, with their figures in the report.</summary>
public class OptimizePruneTests
{
    private static string Ultraface => TestPaths.RequireShared("models", "ultraface_rfb320.onnx");

    [Test]
    public void Channels_HalfTheChannels_CutsMacsAndStillRuns()
    {
        using var dir = new TempDir();
        var output = dir.File("uf.pruned.onnx");
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", Ultraface, "-o", output, "--prune", "channels", "--channel-ratio", "0.5", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var pruning = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("pruning");
        Assert.That(pruning.GetProperty("method").GetString(), Is.EqualTo("channels"));
        Assert.That(pruning.GetProperty("macsAfter").GetInt64(), Is.LessThan(pruning.GetProperty("macsBefore").GetInt64() / 2));
        Assert.That(pruning.GetProperty("layers").GetArrayLength(), Is.GreaterThan(0));
        TestPaths.RequireArtifact("onnxruntime");
        Assert.That(CliRunner.Run("verify", Ultraface, output, "--samples", "2").ExitCode, Is.EqualTo(ExitCodes.Ok));
    }

    [Test]
    public void Magnitude_Eighty_ReportsZerosAndDeflatedSizes()
    {
        using var dir = new TempDir();
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", Ultraface, "-o", dir.File("uf.sparse.onnx"), "--prune", "magnitude", "--sparsity", "0.8", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var pruning = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("pruning");
        Assert.That(pruning.GetProperty("method").GetString(), Is.EqualTo("magnitude"));
        Assert.That(pruning.GetProperty("deflatedBytesAfter").GetInt64(), Is.LessThan(pruning.GetProperty("deflatedBytesBefore").GetInt64() / 2));
    }

    private static double Cosine(string reference, string candidate, string data, TempDir dir)
    {
        var file = dir.File($"{Path.GetFileNameWithoutExtension(candidate)}.verify.json");
        var run = CliRunner.Run("verify", reference, candidate, "--data", data, "--json", file);
        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        return JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("summary").GetProperty("minCosine").GetDouble();
    }

    [Test]
    public void Channels_WithCalibrationData_RepairBeatsNoRepair()
    {
        TestPaths.RequireArtifact("onnxruntime");
        var model = TestPaths.RequireArtifact("models", "ppocr_mobile_v2_cls.onnx");
        var data = TestPaths.RequireShared("data", "ocr_cls");
        using var dir = new TempDir();
        var json = dir.File("report.json");
        string[] common = ["optimize", model, "--prune", "channels", "--channel-ratio", "0.3", "--calibration-data", data];

        var repaired = CliRunner.Run([.. common, "-o", dir.File("repaired.onnx"), "--json", json]);
        var plain = CliRunner.Run([.. common, "-o", dir.File("plain.onnx"), "--no-repair"]);

        Assert.That(repaired.ExitCode, Is.EqualTo(ExitCodes.Ok), repaired.StdErr + repaired.StdOut);
        Assert.That(plain.ExitCode, Is.EqualTo(ExitCodes.Ok), plain.StdErr + plain.StdOut);
        var repair = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("pruning").GetProperty("repair");
        Assert.That(repair.GetProperty("on").GetBoolean(), Is.True);
        Assert.That(repair.GetProperty("samples").GetInt32(), Is.EqualTo(16));
        var refit = repair.GetProperty("layers").EnumerateArray().Where(l => l.GetProperty("refit").GetBoolean()).ToList();
        Assert.That(refit, Is.Not.Empty);
        Assert.That(refit.All(l => l.GetProperty("errorAfter").GetDouble() < l.GetProperty("errorBefore").GetDouble()));
        Assert.That(Cosine(model, dir.File("repaired.onnx"), data, dir), Is.GreaterThan(Cosine(model, dir.File("plain.onnx"), data, dir)));
    }

    [Test]
    public void Magnitude_WithCalibrationDataAndStaticQuantization_RepairsThenQuantizes()
    {
        TestPaths.RequireArtifact("onnxruntime");
        var model = TestPaths.RequireArtifact("models", "ppocr_mobile_v2_cls.onnx");
        var data = TestPaths.RequireShared("data", "ocr_cls");
        using var dir = new TempDir();
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", model, "-o", dir.File("sparse.int8.onnx"), "--prune", "magnitude", "--sparsity", "0.5",
            "--quantize", "static", "--calibration-data", data, "--calibration-samples", "8", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        var repair = root.GetProperty("pruning").GetProperty("repair");
        Assert.That(repair.GetProperty("on").GetBoolean(), Is.True);
        Assert.That(repair.GetProperty("samples").GetInt32(), Is.EqualTo(8));
        Assert.That(root.GetProperty("calibration").GetProperty("samples").GetInt32(), Is.EqualTo(8));
        Assert.That(root.GetProperty("quantizedNodes").GetArrayLength(), Is.GreaterThan(0));
    }

    [Test]
    public void Repair_MissingCalibrationFolder_ExitsWithUsageError()
    {
        using var dir = new TempDir();

        var run = CliRunner.Run("optimize", Ultraface, "-o", dir.File("out.onnx"), "--prune", "channels", "--calibration-data", dir.File("absent"));

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.StdErr + run.StdOut);
        Assert.That(File.Exists(dir.File("out.onnx")), Is.False);
    }

    [TestCase("--prune", "random", "magnitude or channels")]
    [TestCase("--granularity", "model", "layer or global")]
    [TestCase("--criterion", "l0", "l1, l2 or activation")]
    public void Options_Unknown_ExitWithUsageError(string option, string value, string message)
    {
        using var dir = new TempDir();
        var args = new List<string> { "optimize", Ultraface, "-o", dir.File("out.onnx"), option, value };
        if (option != "--prune") args.AddRange(["--prune", option == "--criterion" ? "channels" : "magnitude"]);

        var run = CliRunner.Run([.. args]);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain(message));
    }

    [Test]
    public void TargetMacs_PicksPerLayerRatiosFromSensitivity_AndHitsTheTarget()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", Ultraface, "-o", dir.File("out.onnx"), "--prune", "channels", "--target-macs", "0.6",
            "--calibration-data", TestPaths.RequireShared("data", "ultraface_rfb320"), "--sensitivity-samples", "2", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        var pruning = root.GetProperty("pruning");
        var kept = pruning.GetProperty("macsAfter").GetInt64() / (double)pruning.GetProperty("macsBefore").GetInt64();
        Assert.That(kept, Is.InRange(0.45, 0.605), "within half a percent above the target, not far below it");
        var target = root.GetProperty("pruningTarget");
        Assert.That(target.GetProperty("kind").GetString(), Is.EqualTo("macs"));
        var ratios = target.GetProperty("ratios").EnumerateObject().Select(p => p.Value.GetDouble()).ToList();
        Assert.That(ratios, Is.Not.Empty);
        Assert.That(ratios.Distinct(), Is.SubsetOf(new[] { 0.1, 0.2, 0.3, 0.5, 0.7, 0.85 }), "each layer at one of the measured ratios");
    }

    [TestCase("channels", "--target-sparsity", "0.8", "goes with --prune magnitude")]
    [TestCase("magnitude", "--target-macs", "0.5", "goes with --prune channels")]
    [TestCase("channels", "--target-macs", "0.5", "add --calibration-data")]
    [TestCase("channels", "--target-macs", "1.5", "share in (0, 1)")]
    public void Target_Misused_ExitsWithUsageError(string mode, string option, string value, string message)
    {
        using var dir = new TempDir();

        var run = CliRunner.Run("optimize", Ultraface, "-o", dir.File("out.onnx"), "--prune", mode, option, value);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.StdErr);
        Assert.That(run.StdErr, Does.Contain(message));
    }
}
