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

    [TestCase("--prune", "random", "magnitude or channels")]
    [TestCase("--granularity", "model", "layer or global")]
    [TestCase("--criterion", "l0", "l1 or l2")]
    public void Options_Unknown_ExitWithUsageError(string option, string value, string message)
    {
        using var dir = new TempDir();
        var args = new List<string> { "optimize", Ultraface, "-o", dir.File("out.onnx"), option, value };
        if (option != "--prune") args.AddRange(["--prune", option == "--criterion" ? "channels" : "magnitude"]);

        var run = CliRunner.Run([.. args]);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain(message));
    }
}
