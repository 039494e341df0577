using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;
using EdgeOpt.Runtime.Profiling;

namespace EdgeOpt.Bench;

/// <summary>
/// Per-Run overhead of EdgeOpt's ORT binding against onnxruntime-node on the same ORT build: for each model and thread
/// count, our timed runs (the code path of <c>edgeopt bench</c>) and the Node peer's, one after the other in one run,
/// reported as ratios; plus our wall time per Run minus ORT's own profiled <c>model_run</c> time in the same runs.
/// </summary>
public static class PeerBenchmark
{
    private sealed record Case(string Name, string Path, Dictionary<string, long[]> Shapes);

    private sealed record Row(string Model, int Threads, LatencyStats Ours, LatencyStats Node, double OverheadUs, double OrtRunUs);

    public static int Run(string[] args)
    {
        var root = Args.Value(args, "--root") ?? Directory.GetCurrentDirectory();
        var runs = int.Parse(Args.Value(args, "--runs") ?? "300", CultureInfo.InvariantCulture);
        var warmup = int.Parse(Args.Value(args, "--warmup") ?? "30", CultureInfo.InvariantCulture);
        var outDir = Args.Value(args, "--out") ?? Path.Combine(root, "artifacts", "bench");
        var threads = (Args.Value(args, "--threads") ?? "1,2").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToList();
        var peer = Path.Combine(root, "bench", "node-peer", "peer.mjs");
        if (!Directory.Exists(Path.Combine(root, "bench", "node-peer", "node_modules", "onnxruntime-node")))
        {
            Console.Error.WriteLine("the Node peer is not installed: run `npm ci --ignore-scripts` in bench/node-peer (the Bench target does it)");
            return 1;
        }
        var cases = new List<Case>
        {
            new("mnist-8", Path.Combine(root, "..", "shared", "models", "mnist-8.onnx"), []),
            new("ppocr_mobile_v2_cls", Path.Combine(root, "artifacts", "models", "ppocr_mobile_v2_cls.onnx"), new() { ["x"] = [1, 3, 48, 192] }),
            new("ppocrv4_det", Path.Combine(root, "artifacts", "models", "ppocrv4_det.onnx"), new() { ["x"] = [1, 3, 640, 640] }),
        };
        var library = OrtLibrary.Load();
        Console.Error.WriteLine($"{library}; {runs} timed runs after {warmup} warm-up runs per case");
        var rows = new List<Row>();
        foreach (var c in cases.Where(c => File.Exists(c.Path)))
        {
            // The same seeded sample for our timed runs and the profiled overhead runs, made once per model.
            var sample = BenchmarkInputs.Create(ModelReader.Read(c.Path), null, c.Shapes, null, 1, seed: 1)[0];
            foreach (var t in threads)
            {
                var caseRuns = c.Name == "ppocrv4_det" ? Math.Max(20, runs / 10) : runs;
                var ours = Ours(c, sample, t, warmup, caseRuns);
                var node = Node(peer, c, t, warmup, caseRuns);
                var (overhead, ortRun) = Overhead(library, c, sample, t, warmup, caseRuns);
                rows.Add(new Row(c.Name, t, ours, node, overhead, ortRun));
                Console.Error.WriteLine($"{c.Name} threads {t}: ours p50 {ours.P50:F4} ms, node p50 {node.P50:F4} ms");
            }
        }
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "peer.json"), JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine("| model | threads | EdgeOpt p50 | Node p50 | p50 ratio | EdgeOpt mean | Node mean | mean ratio | ORT model_run (profiled) | binding overhead per Run |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Model} | {r.Threads} | {Ms(r.Ours.P50)} | {Ms(r.Node.P50)} | {r.Ours.P50 / r.Node.P50:F2} | {Ms(r.Ours.Mean)} | {Ms(r.Node.Mean)} | {r.Ours.Mean / r.Node.Mean:F2} | {r.OrtRunUs:F1} µs | {r.OverheadUs:F1} µs |"));
        }
        return 0;
    }

    private static string Ms(double ms) => ms.ToString(ms < 1 ? "F4" : "F2", CultureInfo.InvariantCulture) + " ms";

    /// <summary>Our side: exactly what <c>edgeopt bench</c> runs.</summary>
    private static LatencyStats Ours(Case c, Sample sample, int threads, int warmup, int runs)
    {
        var result = Benchmark.Run(c.Path, [sample], new RuntimeSettings(IntraOpThreads: threads), new BenchmarkOptions(warmup, runs, ProfileNodes: false));
        return result.LatencyMs;
    }

    private static LatencyStats Node(string peer, Case c, int threads, int warmup, int runs)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { peer, "--model", c.Path, "--threads", $"{threads}", "--warmup", $"{warmup}", "--runs", $"{runs}" }) start.ArgumentList.Add(a);
        foreach (var (name, dims) in c.Shapes)
        {
            start.ArgumentList.Add("--shape");
            start.ArgumentList.Add($"{name}={string.Join("x", dims)}");
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"the Node peer failed on {c.Name} (exit {process.ExitCode})");
        var doc = JsonDocument.Parse(output).RootElement[0];
        return LatencyStats.From([.. doc.GetProperty("latenciesMs").EnumerateArray().Select(e => e.GetDouble())]);
    }

    /// <summary>Mean wall time of our Run minus ORT's profiled model_run duration, over the same runs of one profiled session.</summary>
    private static (double OverheadUs, double OrtRunUs) Overhead(OrtLibrary library, Case c, Sample sample, int threads, int warmup, int runs)
    {
        var folder = Directory.CreateTempSubdirectory("edgeopt-peer-");
        try
        {
            using var options = new RuntimeSettings(IntraOpThreads: threads).CreateSessionOptions(library, Path.Combine(folder.FullName, "p"));
            using var session = new InferenceSession(library, c.Path, options);
            var names = session.InputNames;
            var values = OrtTensors.ToOrtValues(library, names, sample.Inputs, sample.Source);
            var wall = 0.0;
            for (var i = 0; i < warmup + runs; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                using (session.Run(names, values, session.OutputNames))
                {
                }
                if (i >= warmup) wall += Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
            values.ForEach(v => v.Dispose());
            var report = ProfileReport.Load(session.EndProfiling());
            var ortPerRun = report.RunDurationsMicroseconds.Skip(warmup).Select(d => (double)d).DefaultIfEmpty().Average();
            return (wall / runs - ortPerRun, ortPerRun);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

/// <summary>Tiny option reader for the benchmark commands.</summary>
internal static class Args
{
    public static string? Value(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
