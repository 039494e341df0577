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
}
