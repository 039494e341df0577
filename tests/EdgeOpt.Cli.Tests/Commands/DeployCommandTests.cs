using System.Diagnostics;
using System.Text.Json;
using EdgeOpt.Targets;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

/// <summary><c>edgeopt deploy</c>: bundles for a board, checked by contents (arm64) and run for real (x64).</summary>
public class DeployCommandTests
{
    private static string Model => TestPaths.RequireShared("models", "ultraface_rfb320.onnx");

    private static string Data => TestPaths.RequireShared("data", "ultraface_rfb320");

    [Test]
    public void Rpi4_BundleHoldsTheArm64LibraryAndAManifestThatVerifies()
    {
        TestPaths.RequireArtifact("onnxruntime", "linux-arm64", "libonnxruntime.so.1");
        using var dir = new TempDir();
        var bundle = dir.File("rpi4");

        var run = CliRunner.Run("deploy", Model, "--target", "rpi4", "-o", bundle, "--inputs", Data, "--samples", "2");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        Assert.That(DeploymentBundle.Verify(bundle), Is.Empty);
        Assert.That(DeploymentBundle.ReadElfMachine(Path.Combine(bundle, "onnxruntime", "libonnxruntime.so.1")), Is.EqualTo(ElfMachine.Arm64));
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(bundle, "manifest.json"))).RootElement;
        Assert.That(manifest.GetProperty("rid").GetString(), Is.EqualTo("linux-arm64"));
        var paths = manifest.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()!).ToList();
        Assert.That(paths, Does.Contain("model/ultraface_rfb320.onnx").And.Contain("app/edgeopt.dll").And.Contain("samples/test_data_set_1/input_0.pb")
            .And.Contain("target.yaml").And.Contain("run.sh"));
        Assert.That(paths.Where(p => p.StartsWith("samples/test_data_set_2", StringComparison.Ordinal)), Is.Empty, "--samples 2");
        Assert.That(File.Exists(bundle + ".tar.gz"), Is.True);
    }

    [Test]
    public void X64Cpu_BundleUnpacksAndRunsHere_WritingTheBenchmarkJson()
    {
        TestPaths.RequireArtifact("onnxruntime", "linux-x64", "libonnxruntime.so.1");
        using var dir = new TempDir();
        var bundle = dir.File("x64");
        var deploy = CliRunner.Run("deploy", Model, "--target", "x64-cpu", "-o", bundle, "--inputs", Data, "--samples", "1");
        Assert.That(deploy.ExitCode, Is.EqualTo(ExitCodes.Ok), deploy.StdErr + deploy.StdOut);
        var unpacked = dir.File("board");
        DeploymentBundle.ExtractSafely(bundle + ".tar.gz", unpacked);
        var result = dir.File("result.json");

        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(unpacked, "run.sh"), result, "--runs", "5", "--warmup", "1", "--no-node-count" }) start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(TimeSpan.FromMinutes(2)), Is.True, "run.sh finished");

        Assert.That(process.ExitCode, Is.EqualTo(0), stderr.Result);
        var bench = JsonDocument.Parse(File.ReadAllText(result)).RootElement;
        var first = bench.ValueKind == JsonValueKind.Array ? bench[0] : bench;
        Assert.That(first.GetProperty("ep").GetString(), Is.EqualTo("cpu"));
        Assert.That(first.GetProperty("latencyMs").GetProperty("p50").GetDouble(), Is.GreaterThan(0));
        Assert.That(stderr.Result, Does.Contain("target x64-cpu"));
    }

    [Test]
    public void LibraryForAnotherMachine_UsageErrorAndNoBundle()
    {
        var x64 = TestPaths.RequireArtifact("onnxruntime", "linux-x64", "libonnxruntime.so.1");
        using var dir = new TempDir();

        var run = CliRunner.Run("deploy", Model, "--target", "rpi4", "-o", dir.File("b"), "--ort-lib-for-target", x64);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("x86-64").And.Contain("needs AArch64"));
        Assert.That(Directory.Exists(dir.File("b")), Is.False);
    }

    [Test]
    public void Bench_TargetWithAProviderTheLibraryLacks_RuntimeErrorNamingIt()
    {
        TestPaths.RequireArtifact("onnxruntime");

        var run = CliRunner.Run("bench", TestPaths.RequireShared("models", "mnist-8.onnx"), "--target", "jetson-orin", "--runs", "1");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Runtime), run.StdErr);
        Assert.That(run.StdErr, Does.Contain("tensorrt"));
    }
}
