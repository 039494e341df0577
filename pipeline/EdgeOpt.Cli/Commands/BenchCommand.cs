using System.CommandLine;
using System.Globalization;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;
using EdgeOpt.Targets;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>edgeopt bench MODEL</c>: latency percentiles, throughput, memory and node placement per execution provider.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The .onnx model to time" };
        var eps = new Option<string[]>("--ep")
        {
            Description = "Execution provider: cpu, cuda, tensorrt, xnnpack, … (repeat for one result per provider); default cpu",
        };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs before timing", DefaultValueFactory = _ => 10 };
        var runs = new Option<int>("--runs") { Description = "Timed runs", DefaultValueFactory = _ => 100 };
        var duration = new Option<double?>("--duration") { Description = "Time for this many seconds instead of --runs" };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Parallel Run loops on one session (measures throughput)",
            DefaultValueFactory = _ => 1,
        };
        var shapes = new Option<string[]>("--input-shape") { Description = "Shape of a dynamic input, NAME=DIMS (e.g. x=1x3x224x224); repeat per input" };
        var batch = new Option<int?>("--batch") { Description = "Value for a dynamic leading (batch) dimension of every input" };
        var inputs = new Option<DirectoryInfo?>("--inputs") { Description = "Real inputs in the ONNX test-data layout (test_data_set_k/input_i.pb); default: seeded random" };
        var json = new Option<FileInfo?>("--json") { Description = "Write the results as JSON (an array when several providers are given)" };
        var noProfile = new Option<bool>("--no-node-count") { Description = "Skip the profiled session that counts which provider ran each node" };
        var target = new Option<string?>("--target")
        {
            Description = "Run as on this target profile (edgeopt targets): its providers in preference order with their options (optional ones only if the library has them) and its threads",
        };
        var targetDirs = TargetsCommand.DirectoriesOption();
        var runtime = new RuntimeCliOptions();
        var command = new Command("bench", "Time a model in ONNX Runtime on one or more execution providers")
        {
            model, eps, warmup, runs, duration, concurrency, shapes, batch, inputs, json, noProfile, target, targetDirs,
        };
        runtime.AddTo(command);
        command.SetAction(parse => Cli.Guard(() =>
        {
            var path = parse.GetValue(model)!.FullName;
            var providers = (parse.GetValue(eps) is { Length: > 0 } e ? e : ["cpu"])
                .SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct().ToList();
            var options = new BenchmarkOptions(parse.GetValue(warmup), parse.GetValue(runs),
                parse.GetValue(duration) is { } seconds ? TimeSpan.FromSeconds(seconds) : null, parse.GetValue(concurrency), !parse.GetValue(noProfile));
            var problems = options.Validate().ToList();
            if (problems.Count > 0) throw new CliException(ExitCodes.Usage, string.Join("; ", problems));
            if (parse.GetValue(batch) is < 1) throw new CliException(ExitCodes.Usage, "--batch must be at least 1");

            var library = runtime.Settings(parse, null).LoadLibrary();
            List<RuntimeSettings> settings;
            if (parse.GetValue(target) is { } targetName)
            {
                if (parse.GetValue(eps) is { Length: > 0 }) throw new CliException(ExitCodes.Usage, "--target sets the providers: drop --ep (or drop --target)");
                var profile = TargetsCommand.Load(() => TargetProfiles.Find(targetName, TargetsCommand.Int8Targets, (parse.GetValue(targetDirs) ?? []).Select(d => d.FullName)));
                settings = [TargetSettings.For(profile, library, runtime.Settings(parse, null), Console.Error.WriteLine)];
                Console.Error.WriteLine($"target {profile.Name}: providers {settings[0].ProviderLabel}, {(settings[0].IntraOpThreads == 0 ? "auto" : settings[0].IntraOpThreads.ToString(CultureInfo.InvariantCulture))} threads");
            }
            else
            {
                providers = [.. providers.Select(p => ExecutionProviders.Resolve(p, library)).DistinctBy(p => p.ProviderName).Select(p => p.FriendlyName)];
                settings = [.. providers.Select(p => runtime.Settings(parse, p))];
            }
            var ir = ModelReader.Read(path);
            var samples = Cli.Usage(() => BenchmarkInputs.Create(ir, parse.GetValue(inputs)?.FullName,
                InputShapes.Parse(parse.GetValue(shapes)), parse.GetValue(batch), randomCount: 1));

            Console.Error.WriteLine($"{library}; {(samples[0].Source.StartsWith("random", StringComparison.Ordinal) ? "seeded random inputs" : $"{samples.Count} input sets from {parse.GetValue(inputs)!.FullName}")}");
            var results = RunAll(path, samples, settings, options);
            Print(results);
            if (parse.GetValue(json) is { } file)
            {
                Json.WriteFile(file.FullName, ToJson(results));
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static List<BenchmarkResult> RunAll(string path, IReadOnlyList<Pipeline.Data.Sample> samples, List<RuntimeSettings> settings, BenchmarkOptions options) =>
        LiveProgress.Run(ctx =>
        {
            var results = new List<BenchmarkResult>();
            foreach (var s in settings)
            {
                var task = ctx?.AddTask($"{s.ExecutionProvider}: loading", maxValue: 1);
                var progress = task == null ? null : new CallbackProgress<BenchmarkProgress>(p =>
                {
                    task.Description = p.Total > 0 ? $"{s.ExecutionProvider}: {p.Phase} {p.Done}/{p.Total}" : $"{s.ExecutionProvider}: {p.Phase} {p.Done}";
                    task.Value = p.Fraction;
                });
                results.Add(Benchmark.Run(path, samples, s, options, progress));
                task?.StopTask();
            }
            return results;
        });

    private static void Print(List<BenchmarkResult> results)
    {
        var table = new Table().AddColumn(Path.GetFileName(results[0].Model));
        foreach (var r in results) table.AddColumn(new TableColumn(Markup.Escape(r.Ep)).RightAligned());
        void Row(string label, Func<BenchmarkResult, string> cell) => table.AddRow([label, .. results.Select(r => Markup.Escape(cell(r)))]);
        Row("threads", r => r.Threads == 0 ? "auto" : Int(r.Threads));
        Row("concurrency", r => Int(r.Concurrency));
        Row("timed runs", r => Int(r.Runs));
        Row("session load", r => Ms(r.SessionLoadMs));
        Row("first run", r => Ms(r.FirstRunMs));
        Row("latency p50", r => Ms(r.LatencyMs.P50));
        Row("latency p90", r => Ms(r.LatencyMs.P90));
        Row("latency p99", r => Ms(r.LatencyMs.P99));
        Row("latency mean", r => Ms(r.LatencyMs.Mean));
        Row("latency min / max", r => $"{Ms(r.LatencyMs.Min)} / {Ms(r.LatencyMs.Max)}");
        Row("throughput", r => r.ThroughputPerSec.ToString("F1", CultureInfo.InvariantCulture) + " inf/s");
        Row("peak RSS", r => Format.Bytes(r.PeakRssBytes));
        Row("nodes on EP", r => r.NodesTotal is { } total ? $"{r.NodesOnEp} of {total}" : "not counted");
        AnsiConsole.Write(table);
        foreach (var r in results.Where(r => r.NodesTotal is { } t && r.NodesOnEp < t))
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]{r.Ep}: {r.NodesTotal - r.NodesOnEp} of {r.NodesTotal} nodes ran on another provider (CPU fallback inside the session)[/]");
        }
    }

    private static string Ms(double ms) => ms.ToString(ms < 10 ? "F3" : "F1", CultureInfo.InvariantCulture) + " ms";

    private static string Int(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>One object for one provider, an array for several.</summary>
    internal static object ToJson(IReadOnlyList<BenchmarkResult> results) => results.Count == 1 ? ToJson(results[0]) : results.Select(ToJson).ToList();

    /// <summary>The published schema: these names are a public contract.</summary>
    internal static object ToJson(BenchmarkResult r) => new
    {
        model = r.Model,
        ortVersion = r.OrtVersion,
        ep = r.Ep,
        threads = r.Threads,
        concurrency = r.Concurrency,
        runs = r.Runs,
        sessionLoadMs = Math.Round(r.SessionLoadMs, 3),
        firstRunMs = Math.Round(r.FirstRunMs, 3),
        latencyMs = new
        {
            min = Math.Round(r.LatencyMs.Min, 4),
            mean = Math.Round(r.LatencyMs.Mean, 4),
            p50 = Math.Round(r.LatencyMs.P50, 4),
            p90 = Math.Round(r.LatencyMs.P90, 4),
            p99 = Math.Round(r.LatencyMs.P99, 4),
            max = Math.Round(r.LatencyMs.Max, 4),
        },
        throughputPerSec = Math.Round(r.ThroughputPerSec, 2),
        peakRssBytes = r.PeakRssBytes,
        nodesOnEp = r.NodesOnEp,
        nodesTotal = r.NodesTotal,
    };
}
