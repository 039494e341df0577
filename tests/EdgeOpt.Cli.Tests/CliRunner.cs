using System.Diagnostics;

namespace EdgeOpt.Cli.Tests;

/// <summary>What one edgeopt invocation printed and returned.</summary>
public sealed record CliRun(int ExitCode, string StdOut, string StdErr);

/// <summary>Runs the built edgeopt command (edgeopt.dll beside the tests) as a separate process, as a user would.</summary>
public static class CliRunner
{
    public static CliRun Run(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "edgeopt.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"edgeopt {string.Join(" ", args)} did not finish within 2 minutes");
        }
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>A temporary folder removed after the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Path = Directory.CreateTempSubdirectory("edgeopt-test-").FullName;

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
