using System.CommandLine;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Reports;
using EdgeOpt.Runtime;
using EdgeOpt.Targets;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary>
/// <c>edgeopt deploy MODEL --target rpi4 -o bundle/</c>: a self-contained folder (and .tar.gz) to copy to the board and run
/// there: the model, the ONNX Runtime library for the board, the edgeopt runner, sample inputs, the profile, run.sh and a manifest.
/// </summary>
public static class DeployCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The .onnx model to ship (usually the optimized one)" };
        var target = new Option<string>("--target") { Description = "Target profile name or file (edgeopt targets)", Required = true };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "The bundle folder to create (a .tar.gz of it is written beside it)", Required = true };
        var inputs = new Option<DirectoryInfo?>("--inputs") { Description = "Sample inputs to ship (ONNX test-data layout); default: one seeded random sample" };
        var samples = new Option<int>("--samples") { Description = "Ship at most this many sample sets of --inputs", DefaultValueFactory = _ => 4 };
        var shapes = new Option<string[]>("--input-shape") { Description = "Shape of a dynamic input for the random sample, NAME=DIMS" };
        var ortLib = new Option<FileInfo?>("--ort-lib-for-target")
        {
            Description = "The ONNX Runtime library to ship (default: the one the build provisioned for the target's RID, artifacts/onnxruntime/<rid>)",
        };
        var dirs = TargetsCommand.DirectoriesOption();
        var host = new Option<string?>("--host") { Description = "Copy the bundle to this board over SSH (user@board), run it there and bring result.json back" };
        var port = new Option<int>("--port") { Description = "With --host: the SSH port", DefaultValueFactory = _ => 22 };
        var identity = new Option<FileInfo?>("--identity") { Description = "With --host: the private key to log in with (batch mode: no password prompts)" };
        var knownHosts = new Option<FileInfo?>("--known-hosts") { Description = "With --host: the known_hosts file the board's host key is checked against (default: yours)" };
        var hostsFile = new Option<FileInfo?>("--hosts") { Description = "Run on every board of this file (YAML list of { name, host, port, identity, knownHosts }), concurrently" };
        var remoteDir = new Option<string>("--remote-dir") { Description = "Folder on the board, relative to the login's home", DefaultValueFactory = _ => "edgeopt-bundles" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds each board may take (copy, run, fetch) before it is reported as timed out", DefaultValueFactory = _ => 600 };
        var runs = new Option<int>("--runs") { Description = "Timed runs on the board", DefaultValueFactory = _ => 100 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs on the board before timing", DefaultValueFactory = _ => 10 };
        var json = new Option<FileInfo?>("--json") { Description = "Write the bundle and every board's outcome (with its benchmark) as JSON" };
        var variant = new Option<string?>("--variant-name")
        {
            Description = "With --host/--hosts: the variant name the boards' timings get in BUNDLE.results/results.json (default: the model's file name), to merge with `edgeopt compare` results in `edgeopt report`",
        };
        var command = new Command("deploy", "Package a model for a board (model, ONNX Runtime for the board, runner, samples, run.sh, manifest, .tar.gz), and run it there over SSH")
        {
            model, target, output, inputs, samples, shapes, ortLib, dirs, host, port, identity, knownHosts, hostsFile, remoteDir, timeout, runs, warmup, json, variant,
        };
        command.SetAction(parse => Cli.Guard(() =>
        {
            var modelPath = parse.GetValue(model)!.FullName;
            var profile = TargetsCommand.Load(() => TargetProfiles.Find(parse.GetValue(target)!, TargetsCommand.Int8Targets, (parse.GetValue(dirs) ?? []).Select(d => d.FullName)));
            if (parse.GetValue(samples) < 1) throw new CliException(ExitCodes.Usage, "--samples must be at least 1");
            if (parse.GetValue(host) != null && parse.GetValue(hostsFile) != null) throw new CliException(ExitCodes.Usage, "give --host or --hosts, not both");
            if (parse.GetValue(port) is < 1 or > 65535) throw new CliException(ExitCodes.Usage, "--port must be in 1..65535");
            if (!(parse.GetValue(timeout) > 0)) throw new CliException(ExitCodes.Usage, "--timeout must be a positive number of seconds");
            if (parse.GetValue(runs) < 1 || parse.GetValue(warmup) < 0) throw new CliException(ExitCodes.Usage, "--runs must be at least 1 and --warmup zero or more");
            IReadOnlyList<RemoteHost> boards = parse.GetValue(hostsFile) is { } file
                ? Hosts(file.FullName)
                : parse.GetValue(host) is { } h
                    ? [new RemoteHost(BoardName(h), h, parse.GetValue(port), parse.GetValue(identity)?.FullName, parse.GetValue(knownHosts)?.FullName)]
                    : [];
            var library = parse.GetValue(ortLib)?.FullName ?? OrtLibrary.ProvisionedPath(profile.Rid, out var tried)
                ?? throw new CliException(ExitCodes.Runtime, $"no ONNX Runtime library for {profile.Rid}: tried {string.Join(", ", tried)}; run ./build.sh --target=FetchAssets or pass --ort-lib-for-target PATH");

            var ir = ModelReader.Read(modelPath);
            var folder = Path.GetDirectoryName(modelPath)!;
            var files = new List<(string, string)> { (modelPath, Path.GetFileName(modelPath)) };
            files.AddRange(ModelFiles.ExternalFiles(ir).Select(f => (f, Path.GetRelativePath(folder, f))));

            var staging = Directory.CreateTempSubdirectory("edgeopt-samples-");
            try
            {
                var sets = Cli.Usage(() => BenchmarkInputs.Create(ir, parse.GetValue(inputs)?.FullName, InputShapes.Parse(parse.GetValue(shapes)), null, randomCount: 1));
                foreach (var (sample, k) in sets.Take(parse.GetValue(samples)).Select((s, k) => (s, k)))
                {
                    var set = Directory.CreateDirectory(Path.Combine(staging.FullName, $"test_data_set_{k}")).FullName;
                    var runtimeInputs = ir.Graph.Inputs.Where(i => !i.IsInitializer).ToList();
                    for (var i = 0; i < runtimeInputs.Count; i++) TensorFiles.Write(Path.Combine(set, $"input_{i}.pb"), sample.Inputs[runtimeInputs[i].Name]);
                }
                var result = Cli.Usage(() => DeploymentBundle.Create(new BundleRequest(files, profile, AppContext.BaseDirectory, library, staging.FullName,
                    parse.GetValue(output)!.FullName)));
                Print(result, profile);
                var outcomes = boards.Count == 0 ? [] : RunRemote(result, boards, parse.GetValue(remoteDir)!, TimeSpan.FromSeconds(parse.GetValue(timeout)),
                    ["--runs", parse.GetValue(runs).ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--warmup", parse.GetValue(warmup).ToString(System.Globalization.CultureInfo.InvariantCulture), "--no-node-count"]);
                if (outcomes.Count > 0)
                {
                    var stats = Onnx.Analysis.ModelStatistics.Compute(ir);
                    var results = new ResultsFile([new ModelResults(Path.GetFileNameWithoutExtension(modelPath),
                        [new VariantResult(parse.GetValue(variant) ?? Path.GetFileNameWithoutExtension(modelPath), modelPath, ModelFiles.TotalBytes(ir, modelPath),
                            stats.Parameters, stats.Macs, null, null, [.. outcomes.Where(o => o.Succeeded).Select(o => BoardLatency(o))], [])])]);
                    results.Write(Path.Combine(result.Directory + ".results", "results.json"));
                }
                if (parse.GetValue(json) is { } jsonFile) Json.WriteFile(jsonFile.FullName, ToJson(result, profile, outcomes));
                if (outcomes.Any(o => !o.Succeeded))
                {
                    throw new CliException(ExitCodes.Runtime, $"{outcomes.Count(o => !o.Succeeded)} of {outcomes.Count} boards failed: " +
                        string.Join("; ", outcomes.Where(o => !o.Succeeded).Select(o => $"{o.Host.Name}: {o.Error}")));
                }
            }
            finally
            {
                staging.Delete(recursive: true);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static IReadOnlyList<RemoteHost> Hosts(string path)
    {
        try
        {
            return RemoteRunner.ReadHosts(path);
        }
        catch (RemoteHostsException e)
        {
            throw new CliException(ExitCodes.Usage, e.Message);
        }
    }

    /// <summary>A board's label from user@host: the host part with characters unsafe in file names as '_'.</summary>
    private static string BoardName(string destination)
    {
        var hostPart = destination.Contains('@') ? destination[(destination.IndexOf('@') + 1)..] : destination;
        return new string([.. hostPart.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_')]);
    }

    /// <summary>Runs the bundle on every board concurrently, saves each result beside the bundle and prints the comparison.</summary>
    private static IReadOnlyList<RemoteOutcome> RunRemote(BundleResult bundle, IReadOnlyList<RemoteHost> boards, string remoteDir, TimeSpan timeout, IReadOnlyList<string> benchArgs)
    {
        AnsiConsole.MarkupLineInterpolated($"running on {boards.Count} board{(boards.Count == 1 ? "" : "s")}: {string.Join(", ", boards.Select(b => $"{b.Name} ({b.Destination}:{b.Port})"))}");
        var outcomes = new RemoteRunner(remoteDir).RunAllAsync(boards, bundle.Archive, timeout, benchArgs).GetAwaiter().GetResult();
        var results = Directory.CreateDirectory(bundle.Directory + ".results").FullName;
        var table = new Table().AddColumns("board", "status", "p50", "p90", "p99", "throughput", "seconds");
        foreach (var o in outcomes)
        {
            if (o.Succeeded)
            {
                File.WriteAllText(Path.Combine(results, $"{o.Host.Name}.json"), o.ResultJson);
                var r = FirstResult(o.ResultJson!);
                var latency = r.GetProperty("latencyMs");
                table.AddRow(o.Host.Name, "[green]ok[/]", Ms(latency, "p50"), Ms(latency, "p90"), Ms(latency, "p99"),
                    $"{r.GetProperty("throughputPerSec").GetDouble():F1}/s", $"{o.Seconds:F1}");
            }
            else
            {
                table.AddRow(Markup.Escape(o.Host.Name), $"[red]failed[/]: {Markup.Escape(o.Error ?? "")}", "", "", "", "", $"{o.Seconds:F1}");
            }
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"board results: {results} (results.json there feeds `edgeopt report`)");
        return outcomes;
    }

    /// <summary>A board's benchmark as a timing of the report (target = the board's name).</summary>
    private static VariantLatency BoardLatency(RemoteOutcome o)
    {
        var r = FirstResult(o.ResultJson!);
        var l = r.GetProperty("latencyMs");
        return new VariantLatency(o.Host.Name, r.GetProperty("ep").GetString() ?? "?", r.GetProperty("threads").GetInt32(),
            l.GetProperty("p50").GetDouble(), l.GetProperty("p90").GetDouble(), l.GetProperty("p99").GetDouble(), r.GetProperty("throughputPerSec").GetDouble());
    }

    private static System.Text.Json.JsonElement FirstResult(string json)
    {
        var root = System.Text.Json.JsonDocument.Parse(json).RootElement;
        return root.ValueKind == System.Text.Json.JsonValueKind.Array ? root[0] : root;
    }

    private static string Ms(System.Text.Json.JsonElement latency, string key) => $"{latency.GetProperty(key).GetDouble():F3} ms";

    private static object ToJson(BundleResult bundle, TargetProfile profile, IReadOnlyList<RemoteOutcome> outcomes) => new
    {
        bundle = bundle.Directory,
        archive = bundle.Archive,
        target = profile.Name,
        rid = profile.Rid,
        files = bundle.Manifest.Files.Count,
        boards = outcomes.Select(o => new
        {
            name = o.Host.Name,
            host = o.Host.Destination,
            port = o.Host.Port,
            succeeded = o.Succeeded,
            error = o.Error,
            seconds = Math.Round(o.Seconds, 3),
            result = o.ResultJson is { } j ? FirstResult(j) : (System.Text.Json.JsonElement?)null,
        }),
    };

    private static void Print(BundleResult result, TargetProfile profile)
    {
        var table = new Table().AddColumns("file", "bytes", "sha256");
        foreach (var f in result.Manifest.Files.Where(f => !f.Path.StartsWith("app/", StringComparison.Ordinal)))
        {
            table.AddRow(Markup.Escape(f.Path), Format.Bytes(f.Bytes), f.Sha256[..16] + "…");
        }
        var app = result.Manifest.Files.Where(f => f.Path.StartsWith("app/", StringComparison.Ordinal)).ToList();
        table.AddRow($"app/ ({app.Count} files)", Format.Bytes(app.Sum(f => f.Bytes)), "");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"bundle for [bold]{profile.Name}[/] ({profile.Rid}): {result.Directory} and {Path.GetFileName(result.Archive)} ({Format.Bytes(new FileInfo(result.Archive).Length)})");
        AnsiConsole.MarkupLineInterpolated($"on the board: tar -xzf {Path.GetFileName(result.Archive)} -C bundle && bundle/run.sh   (needs the .NET 10 runtime; run.sh says how to get it)");
    }
}
