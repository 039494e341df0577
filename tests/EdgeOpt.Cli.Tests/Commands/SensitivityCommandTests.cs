using System.Text.Json;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

/// <summary><c>edgeopt sensitivity</c>: per-layer pruning analysis on a real model and the ratios it picks for a target.</summary>
public class SensitivityCommandTests
{
    [Test]
    public void Channels_OnUltraface_TableAndChosenRatiosForTheTarget()
    {
        TestPaths.RequireArtifact("onnxruntime");
        var model = TestPaths.RequireShared("models", "ultraface_rfb320.onnx");
        var data = TestPaths.RequireShared("data", "ultraface_rfb320");
        using var dir = new TempDir();
        var json = dir.File("sensitivity.json");

        var run = CliRunner.Run("sensitivity", model, "--data", data, "--samples", "2", "--ratios", "0.3,0.5", "--target-macs", "0.8", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        var layers = report.GetProperty("layers").EnumerateArray().Where(l => l.GetProperty("skipped").ValueKind == JsonValueKind.Null).ToList();
        Assert.That(layers, Has.Count.GreaterThan(10));
        Assert.That(layers.SelectMany(l => l.GetProperty("points").EnumerateArray()).Select(p => p.GetProperty("cosine").GetDouble()), Has.All.InRange(0.0, 1.0 + 1e-9));
        var chosen = report.GetProperty("chosen");
        Assert.That(chosen.GetProperty("predictedSaving").GetDouble(), Is.GreaterThanOrEqualTo(0.2));
        Assert.That(chosen.GetProperty("ratios").EnumerateObject().Select(p => p.Value.GetDouble()), Has.All.AnyOf(0.3, 0.5));
        Assert.That(report.GetProperty("samples").GetInt32(), Is.EqualTo(2));
    }

    [TestCase("--method", "prune-heads", "prune-channels or prune-magnitude")]
    [TestCase("--ratios", "0.3,1.5", "not a number in (0, 1)")]
    [TestCase("--target-sparsity", "0.8", "--target-sparsity goes with --method prune-magnitude")]
    [TestCase("--target-macs", "1.2", "share in (0, 1)")]
    public void BadOptions_ExitWithUsageError(string option, string value, string message)
    {
        using var dir = new TempDir();

        var run = CliRunner.Run("sensitivity", TestPaths.RequireShared("models", "mnist-8.onnx"), "--data", dir.Path, option, value);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.StdErr);
        Assert.That(run.StdErr, Does.Contain(message));
    }

    [Test]
    public void EmptyDataFolder_ExitsWithUsageErrorNamingIt()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();

        var run = CliRunner.Run("sensitivity", TestPaths.RequireShared("models", "mnist-8.onnx"), "--data", dir.Path);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.StdErr);
        Assert.That(run.StdErr, Does.Contain(dir.Path));
    }
}
