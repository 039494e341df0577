using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace EdgeOpt.Cli.Tests;

/// <summary>
/// A throwaway OpenSSH server on 127.0.0.1 for the remote-run tests ("a board"): its own host key, config, authorized client key
/// and known_hosts in a temp folder, started as <c>sshd -D</c> on a free port and stopped on dispose. Tests are ignored, with
/// the reason, where Debian's openssh-server is not installed and cannot be (installing needs root and apt-get).
/// </summary>
public sealed class LoopbackSshd : IDisposable
{
    private const string Sshd = "/usr/sbin/sshd";
    private static readonly Lazy<string?> Missing = new(EnsureInstalled);
    private readonly Process _process;

    /// <param name="authorize">Whether the client key may log in (false: a board that refuses us).</param>
    public LoopbackSshd(TempDir dir, string name, bool authorize = true)
    {
        if (Missing.Value is { } reason) Assert.Ignore(reason);
        Folder = Directory.CreateDirectory(dir.File(name)).FullName;
        Keygen(File("host_key"));
        ClientKey = dir.File("client_key");
        if (!System.IO.File.Exists(ClientKey)) Keygen(ClientKey);
        System.IO.File.WriteAllText(File("authorized_keys"), authorize ? System.IO.File.ReadAllText(ClientKey + ".pub") : "");
        Port = FreePort();
        KnownHosts = File("known_hosts");
        var hostKey = System.IO.File.ReadAllText(File("host_key.pub")).Split(' ');
        System.IO.File.WriteAllText(KnownHosts, $"[127.0.0.1]:{Port} {hostKey[0]} {hostKey[1]}\n");
        System.IO.File.WriteAllText(File("sshd_config"), $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {File("host_key")}
            AuthorizedKeysFile {File("authorized_keys")}
            PidFile {File("sshd.pid")}
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            Subsystem sftp internal-sftp
            LogLevel ERROR

            """);
        Directory.CreateDirectory("/run/sshd");
        var start = new ProcessStartInfo(Sshd) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-D", "-e", "-f", File("sshd_config") }) start.ArgumentList.Add(a);
        _process = Process.Start(start)!;
        WaitForPort();
    }

    public string Folder { get; }
    public int Port { get; }
    public string ClientKey { get; }
    public string KnownHosts { get; }
    public string Destination => $"{Environment.UserName}@127.0.0.1";

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(5000);
        _process.Dispose();
    }

    private string File(string name) => Path.Combine(Folder, name);

    private void WaitForPort()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process.HasExited) Assert.Fail($"sshd exited with {_process.ExitCode}: {_process.StandardError.ReadToEnd()}");
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }
        Assert.Fail("sshd did not listen within 10 s");
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static void Keygen(string path) => SystemPackages.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "edgeopt-test", "-f", path);

    /// <summary>Null when sshd and the OpenSSH client are there (installing openssh-server with apt-get when root); else why not.</summary>
    private static string? EnsureInstalled()
    {
        if (!OperatingSystem.IsLinux()) return "the loopback sshd tests run on Linux only";
        foreach (var tool in new[] { "/usr/bin/ssh", "/usr/bin/scp", "/usr/bin/ssh-keygen" })
        {
            if (!System.IO.File.Exists(tool)) return $"{tool} is missing: install openssh-client to run the remote-run tests";
        }
        return SystemPackages.Ensure(Sshd, "openssh-server");
    }
}
