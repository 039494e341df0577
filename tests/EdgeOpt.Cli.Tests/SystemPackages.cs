using System.Diagnostics;

namespace EdgeOpt.Cli.Tests;

/// <summary>Debian tools some tests drive (sshd, chromium): found, or installed with apt-get when the tests run as root.</summary>
public static class SystemPackages
{
    private static readonly Lock Gate = new();

    /// <summary>Null when <paramref name="binary"/> exists (after installing <paramref name="package"/> if it can); else why it cannot be had.</summary>
    public static string? Ensure(string binary, string package)
    {
        lock (Gate)
        {
            if (File.Exists(binary)) return null;
            if (Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
            {
                return $"{binary} is missing and cannot be installed here (needs root and apt-get): apt-get install {package}";
            }
            if (Run("apt-get", "install", "-y", "-qq", package) != 0 && (Run("apt-get", "update", "-qq") != 0 || Run("apt-get", "install", "-y", "-qq", package) != 0))
            {
                return $"apt-get install {package} failed (no package mirror?)";
            }
            return File.Exists(binary) ? null : $"{package} installed but {binary} is missing";
        }
    }

    /// <summary>Runs a program to completion (4 minutes at most) and returns its exit code (-1 on timeout).</summary>
    public static int Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var p = Process.Start(start)!;
        _ = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            p.Kill(entireProcessTree: true);
            return -1;
        }
        return p.ExitCode;
    }
}
