using System.Text.Json;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

/// <summary><c>edgeopt run --recipe</c> end to end on UltraFace, and <c>optimize --recipe</c>.</summary>
public class RunCommandTests
{
    private static string Recipe(TempDir dir, string fidelity, string sweep = "")
    {
        var path = dir.File("r.yaml");
        File.WriteAllText(path, $"""
            model: {TestPaths.RequireShared("models", "ultraface_rfb320.onnx")}
            data: {"{"} calibration: {TestPaths.RequireShared("data", "ultraface_rfb320")} {"}"}
            fidelity: {fidelity}
            passes:
              - cleanup
              - prune-channels: {"{"} ratio: 0.3, inputShapes: {"{"} input: 1x3x240x320 {"}"} {"}"}
            targets: [x64-cpu]
            bench: {"{"} runs: 3, warmup: 1, rounds: 1 {"}"}
            {sweep}
            """);
        return path;
    }

    [Test]
    public void Sweep_EveryVariantVerifiedBenchedAndReported()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var outDir = dir.File("out");

        var run = CliRunner.Run("run", "--recipe", Recipe(dir, "{ cosine: 0.5 }", "sweep: { prune-channels.ratio: [0.2, 0.4] }"), "-o", outDir);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var model = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "results.json"))).RootElement.GetProperty("models")[0];
        var variants = model.GetProperty("variants").EnumerateArray().ToList();
        Assert.That(variants.Select(v => v.GetProperty("name").GetString()), Is.EqualTo(new[] { "original", "v1", "v2" }));
        Assert.That(variants[2].GetProperty("macs").GetInt64(), Is.LessThan(variants[1].GetProperty("macs").GetInt64()), "0.4 prunes more than 0.2");
        Assert.That(variants.Skip(1).Select(v => v.GetProperty("cosine").GetDouble()), Has.All.GreaterThan(0.5));
        Assert.That(File.Exists(Path.Combine(outDir, "report.html")) && File.Exists(Path.Combine(outDir, "report.md")) && File.Exists(Path.Combine(outDir, "v2.onnx")), Is.True);
        Assert.That(run.StdOut, Does.Contain("Pareto"));
    }

    [Test]
    public void FidelityMissed_Exit4_AfterWritingTheReport()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var outDir = dir.File("out");

        var run = CliRunner.Run("run", "--recipe", Recipe(dir, "{ cosine: 0.999999 }"), "-o", outDir);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.FidelityFailed), run.StdErr + run.StdOut);
        Assert.That(run.StdErr, Does.Contain("fidelity target cosine ≥ 0.999999 missed").And.Contain("optimized: cosine"));
        Assert.That(File.Exists(Path.Combine(outDir, "report.html")), Is.True, "the report that shows why is written first");
    }

    [Test]
    public void OptimizeRecipe_WritesTheModel_AndRefusesMixedOptions()
    {
        using var dir = new TempDir();
        var recipe = Recipe(dir, "{ cosine: 0.5 }");
        var model = TestPaths.RequireShared("models", "ultraface_rfb320.onnx");

        var ok = CliRunner.Run("optimize", model, "-o", dir.File("o.onnx"), "--recipe", recipe);
        var mixed = CliRunner.Run("optimize", model, "-o", dir.File("p.onnx"), "--recipe", recipe, "--prune", "magnitude");

        Assert.That(ok.ExitCode, Is.EqualTo(ExitCodes.Ok), ok.StdErr + ok.StdOut);
        Assert.That(ok.StdOut, Does.Contain("prune-channels"));
        Assert.That(mixed.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(mixed.StdErr, Does.Contain("--recipe names the passes"));
    }

    [Test]
    public void BadRecipe_UsageErrorWithTheLine()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad.yaml"), "model: x.onnx\npasses: [cleanup]\nspeed: max\n");

        var run = CliRunner.Run("run", "--recipe", dir.File("bad.yaml"), "-o", dir.File("out"));

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("bad.yaml:3:1: unknown key 'speed'"));
    }
}
