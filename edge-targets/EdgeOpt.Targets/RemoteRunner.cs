using System.Diagnostics;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace EdgeOpt.Targets;

/// <summary>A board reachable over SSH.</summary>
/// <param name="Name">A label for reports and result files (letters, digits, '.', '_', '-').</param>
/// <param name="Destination">user@host (or host, for the current user).</param>
/// <param name="Port">The SSH port.</param>
/// <param name="Identity">A private key file (ssh -i); null: the user's SSH configuration decides.</param>
/// <param name="KnownHosts">A known_hosts file to verify the board's host key against; null: the user's.</param>
public sealed record RemoteHost(string Name, string Destination, int Port = 22, string? Identity = null, string? KnownHosts = null);

/// <summary>What one board did: the benchmark JSON it wrote, or why it failed.</summary>
public sealed record RemoteOutcome(RemoteHost Host, bool Succeeded, string? ResultJson, string? Error, double Seconds);

/// <summary>A hosts file that cannot be used; the message names the file and line.</summary>
public sealed class RemoteHostsException(string message) : Exception(message);

/// <summary>
/// Runs a deployment bundle on boards with the system's OpenSSH client: copies the archive with <c>scp</c>, unpacks it and runs
/// its run.sh with <c>ssh</c>, and brings result.json back. Always batch mode (no password or passphrase prompts) with strict host
/// key checking (an unknown board is an error that says how to add its key), a connect timeout, and an overall timeout per board.
/// Several boards run concurrently; one that fails or times out is reported and the others go on.
/// </summary>
public sealed partial class RemoteRunner(string remoteDirectory = "edgeopt-bundles", string ssh = "ssh", string scp = "scp")
{
    /// <summary>Runs the bundle archive <paramref name="archive"/> (made by <see cref="DeploymentBundle"/>) on every host, concurrently.</summary>
    public async Task<IReadOnlyList<RemoteOutcome>> RunAllAsync(IReadOnlyList<RemoteHost> hosts, string archive, TimeSpan timeout,
        IReadOnlyList<string> benchArguments, CancellationToken cancellation = default) =>
        await Task.WhenAll(hosts.Select(h => RunAsync(h, archive, timeout, benchArguments, cancellation))).ConfigureAwait(false);

    /// <summary>Copies, unpacks and runs the bundle on one host; never throws for the host's failures (they are the outcome).</summary>
    public async Task<RemoteOutcome> RunAsync(RemoteHost host, string archive, TimeSpan timeout, IReadOnlyList<string> benchArguments, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        var bundle = Path.GetFileName(archive)[..^".tar.gz".Length];
        if (!SafeName().IsMatch(bundle) || !SafeName().IsMatch(host.Name)) return Failed(host, clock, $"names must be letters, digits, '.', '_' or '-': '{bundle}', '{host.Name}'");
        if (benchArguments.Any(a => !SafeArgument().IsMatch(a))) return Failed(host, clock, "bench arguments must be plain words (letters, digits, '-', '.', '=', ',')");
        var dir = $"{remoteDirectory}/{bundle}";
        var local = Path.Combine(Path.GetTempPath(), $"edgeopt-remote-{host.Name}-{Guid.NewGuid():N}.json");
        try
        {
            var steps = new (string What, string Program, List<string> Args)[]
            {
                ("create the remote folder", ssh, [.. SshArgs(host), host.Destination, $"mkdir -p '{remoteDirectory}'"]),
                ("copy the bundle", scp, [.. ScpArgs(host), archive, $"{host.Destination}:{remoteDirectory}/"]),
                ("unpack and run it", ssh, [.. SshArgs(host), host.Destination,
                    $"cd '{remoteDirectory}' && rm -rf '{bundle}' && mkdir '{bundle}' && tar -xzf '{bundle}.tar.gz' -C '{bundle}' && " +
                    $"sh '{bundle}/run.sh' '{bundle}/result.json' {string.Join(" ", benchArguments)}"]),
                ("fetch result.json", scp, [.. ScpArgs(host), $"{host.Destination}:{dir}/result.json", local]),
            };
            foreach (var (what, program, args) in steps)
            {
                var (exit, stderr) = await Execute(program, args, deadline.Token).ConfigureAwait(false);
                if (exit != 0) return Failed(host, clock, $"{what} failed (exit {exit}): {Explain(stderr, host)}");
            }
            return new RemoteOutcome(host, true, await File.ReadAllTextAsync(local, cancellation).ConfigureAwait(false), null, clock.Elapsed.TotalSeconds);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            return Failed(host, clock, $"timed out after {timeout.TotalSeconds:F0} s");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return Failed(host, clock, $"cannot start the OpenSSH client ({e.Message}): install openssh-client");
        }
        finally
        {
            if (File.Exists(local)) File.Delete(local);
        }
    }

    /// <summary>
    /// Reads a hosts file (YAML or JSON): a list of <c>{ name, host: user@board, port, identity, knownHosts }</c>; relative key
    /// paths are relative to the file.
    /// </summary>
    /// <exception cref="RemoteHostsException">Unreadable, not a list, unknown keys or bad values (file:line in the message).</exception>
    public static IReadOnlyList<RemoteHost> ReadHosts(string path)
    {
        const string shape = "a hosts file is a list of boards: - { name: pi4, host: pi@192.168.1.20, port: 22, identity: ~/.ssh/id_ed25519 }";
        var (list, reader) = YamlReader.Load<YamlSequenceNode>(path, m => new RemoteHostsException(m), "hosts file", shape);
        if (list.Children.Count == 0) throw new RemoteHostsException($"{path}:1:1: {shape}");
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var hosts = new List<RemoteHost>();
        foreach (var item in list.Children)
        {
            if (item is not YamlMappingNode map) { reader.Fail(item, "each board is a mapping: { name: …, host: user@board }"); continue; }
            reader.RejectUnknown(map, ["name", "host", "port", "identity", "knownHosts"]);
            var name = reader.String(map, "name", required: true)!;
            if (!SafeName().IsMatch(name)) reader.Fail(reader.Node(map, "name")!, $"name '{name}' must be letters, digits, '.', '_' or '-'");
            if (hosts.Any(h => h.Name == name)) reader.Fail(reader.Node(map, "name")!, $"name '{name}' is used twice");
            var port = reader.Int(map, "port") ?? 22;
            if (port is < 1 or > 65535) reader.Fail(reader.Node(map, "port")!, $"port {port} is not in 1..65535");
            string? File(string key) => reader.String(map, key) is { } p ? Path.GetFullPath(p.StartsWith("~/", StringComparison.Ordinal)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), p[2..]) : Path.Combine(folder, p)) : null;
            hosts.Add(new RemoteHost(name, reader.String(map, "host", required: true)!, port, File("identity"), File("knownHosts")));
        }
        return hosts;
    }

    private static List<string> Common(RemoteHost host)
    {
        var args = new List<string> { "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10" };
        if (host.KnownHosts != null) args.AddRange(["-o", $"UserKnownHostsFile={host.KnownHosts}"]);
        if (host.Identity != null) args.AddRange(["-o", "IdentitiesOnly=yes", "-i", host.Identity]);
        return args;
    }

    private static List<string> SshArgs(RemoteHost host) => [.. Common(host), "-p", host.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    private static List<string> ScpArgs(RemoteHost host) => [.. Common(host), "-q", "-P", host.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    private static string Explain(string stderr, RemoteHost host)
    {
        var text = stderr.Trim().Replace('\n', ' ');
        if (text.Contains("Host key verification failed", StringComparison.Ordinal) || text.Contains("No ED25519 host key is known", StringComparison.Ordinal)
            || text.Contains("host key is known", StringComparison.Ordinal))
        {
            return $"{text} — the board's host key is not trusted: check it and add it (ssh-keyscan -p {host.Port} {HostPart(host)} >> ~/.ssh/known_hosts)";
        }
        if (text.Contains("Permission denied", StringComparison.Ordinal)) return $"{text} — key authentication failed: pass --identity FILE (batch mode never asks for a password)";
        return text.Length > 0 ? text : "no message";
    }

    private static string HostPart(RemoteHost host) => host.Destination.Contains('@') ? host.Destination[(host.Destination.IndexOf('@') + 1)..] : host.Destination;

    private static RemoteOutcome Failed(RemoteHost host, Stopwatch clock, string error) => new(host, false, null, error, clock.Elapsed.TotalSeconds);

    private static async Task<(int Exit, string StdErr)> Execute(string program, List<string> args, CancellationToken cancellation)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellation);
        var stderr = process.StandardError.ReadToEndAsync(cancellation);
        try
        {
            await process.WaitForExitAsync(cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        await stdout.ConfigureAwait(false);
        return (process.ExitCode, await stderr.ConfigureAwait(false));
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex SafeName();

    [GeneratedRegex("^[A-Za-z0-9._=,-]+$")]
    private static partial Regex SafeArgument();
}
