using System.Text.Json;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

/// <summary><c>edgeopt deploy --host/--hosts</c> for real, against OpenSSH servers started on 127.0.0.1 ("boards" of the x64-cpu profile).</summary>
[NonParallelizable]
public class DeployRemoteTests
{
    private static string Model => TestPaths.RequireShared("models", "ultraface_rfb320.onnx");

    private static string Data => TestPaths.RequireShared("data", "ultraface_rfb320");

    private static string[] Deploy(TempDir dir, string bundle, params string[] more) =>
        ["deploy", Model, "--target", "x64-cpu", "-o", dir.File(bundle), "--inputs", Data, "--samples", "1", "--runs", "3", "--warmup", "1",
         "--remote-dir", dir.File("remote"), "--timeout", "120", .. more];

    [Test]
    public void Host_LoopbackBoard_CopiesRunsThereAndBringsTheResultBack()
    {
        TestPaths.RequireArtifact("onnxruntime", "linux-x64");
        using var dir = new TempDir();
        using var board = new LoopbackSshd(dir, "board");
        var json = dir.File("deploy.json");

        var run = CliRunner.Run(Deploy(dir, "b", "--host", board.Destination, "--port", board.Port.ToString(), "--identity", board.ClientKey,
            "--known-hosts", board.KnownHosts, "--json", json));

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var boards = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("boards");
        Assert.That(boards.GetArrayLength(), Is.EqualTo(1));
        Assert.That(boards[0].GetProperty("succeeded").GetBoolean(), Is.True);
        Assert.That(boards[0].GetProperty("result").GetProperty("latencyMs").GetProperty("p50").GetDouble(), Is.GreaterThan(0));
        Assert.That(File.Exists(Path.Combine(dir.File("b.results"), "127.0.0.1.json")), Is.True, "the board's result is kept beside the bundle");
        Assert.That(File.Exists(Path.Combine(dir.File("remote"), "b", "result.json")), Is.True, "run.sh ran on the board's copy");
        Assert.That(run.StdOut, Does.Contain("127.0.0.1").And.Contain("ok"));
        var results = dir.File("b.results/results.json");
        var latency = JsonDocument.Parse(File.ReadAllText(results)).RootElement.GetProperty("models")[0].GetProperty("variants")[0].GetProperty("latency");
        Assert.That(latency[0].GetProperty("target").GetString(), Is.EqualTo("127.0.0.1"), "the board's timing, ready for edgeopt report");
        Assert.That(CliRunner.Run("report", results, "-o", dir.File("boards.md")).ExitCode, Is.EqualTo(ExitCodes.Ok));
    }

    [Test]
    public void Hosts_TwoBoardsOneRefusing_BothReported_TheGoodOneCollected_Exit3()
    {
        TestPaths.RequireArtifact("onnxruntime", "linux-x64");
        using var dir = new TempDir();
        using var good = new LoopbackSshd(dir, "good");
        using var bad = new LoopbackSshd(dir, "bad", authorize: false);
        var hosts = dir.File("hosts.yaml");
        File.WriteAllText(hosts, $"""
            - name: good-board
              host: {good.Destination}
              port: {good.Port}
              identity: {good.ClientKey}
              knownHosts: {good.KnownHosts}
            - name: bad-board
              host: {bad.Destination}
              port: {bad.Port}
              identity: {bad.ClientKey}
              knownHosts: {bad.KnownHosts}
            """);
        var json = dir.File("deploy.json");

        var run = CliRunner.Run(Deploy(dir, "b", "--hosts", hosts, "--json", json));

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Runtime), run.StdErr + run.StdOut);
        Assert.That(run.StdErr, Does.Contain("1 of 2 boards failed").And.Contain("bad-board"));
        var boards = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("boards").EnumerateArray().ToDictionary(b => b.GetProperty("name").GetString()!);
        Assert.That(boards["good-board"].GetProperty("succeeded").GetBoolean(), Is.True);
        Assert.That(boards["bad-board"].GetProperty("succeeded").GetBoolean(), Is.False);
        Assert.That(boards["bad-board"].GetProperty("error").GetString(), Does.Contain("Permission denied").And.Contain("--identity"));
        Assert.That(File.Exists(Path.Combine(dir.File("b.results"), "good-board.json")), Is.True);
    }

    [Test]
    public void Host_UnknownHostKey_RefusedWithHowToTrustIt()
    {
        TestPaths.RequireArtifact("onnxruntime", "linux-x64");
        using var dir = new TempDir();
        using var board = new LoopbackSshd(dir, "board");
        var empty = dir.File("empty_known_hosts");
        File.WriteAllText(empty, "");

        var run = CliRunner.Run(Deploy(dir, "b", "--host", board.Destination, "--port", board.Port.ToString(), "--identity", board.ClientKey, "--known-hosts", empty));

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Runtime), run.StdErr + run.StdOut);
        Assert.That(run.StdErr, Does.Contain("host key").And.Contain("ssh-keyscan"));
    }
}
