using System.Diagnostics;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;
using EdgeOpt.Runtime.Profiling;

namespace EdgeOpt.Pipeline.Benchmarking;

/// <summary>How long and how hard to run a benchmark.</summary>
/// <param name="Warmup">Untimed runs after the first run, before timing starts.</param>
/// <param name="Runs">Timed runs (all loops together); ignored when <paramref name="Duration"/> is set.</param>
/// <param name="Duration">Run for this long instead of a fixed count.</param>
/// <param name="Concurrency">Parallel Run loops on one session (throughput); 1 measures latency alone.</param>
/// <param name="ProfileNodes">Open a second, profiled session to count the nodes each provider ran.</param>
public sealed record BenchmarkOptions(int Warmup = 10, int Runs = 100, TimeSpan? Duration = null, int Concurrency = 1, bool ProfileNodes = true)
{
    /// <summary>Every problem with these options, as messages that name the option.</summary>
    public IEnumerable<string> Validate()
    {
        if (Warmup < 0) yield return "--warmup must be zero or more";
        if (Duration is null && Runs < 1) yield return "--runs must be at least 1";
        if (Duration is { } d && d <= TimeSpan.Zero) yield return "--duration must be positive";
        if (Concurrency < 1) yield return "--concurrency must be at least 1";
    }
}

/// <summary>Where a benchmark is: which phase, and how many timed runs are done out of how many (0 total when timed by duration).</summary>
public readonly record struct BenchmarkProgress(string Phase, long Done, long Total, double Fraction);

/// <summary>One model on one execution provider: the figures of <c>edgeopt bench</c> (names kept stable for the JSON).</summary>
public sealed record BenchmarkResult(
    string Model,
    string OrtVersion,
    string Ep,
    int Threads,
    int Concurrency,
    long Runs,
    double SessionLoadMs,
    double FirstRunMs,
    LatencyStats LatencyMs,
    double ThroughputPerSec,
    long PeakRssBytes,
    int? NodesOnEp,
    int? NodesTotal);

/// <summary>
/// Times a model in ONNX Runtime: session creation, the first run, then warmup and timed runs on inputs made once
/// (OrtValues over pinned memory, reused every run), in <c>Concurrency</c> loops sharing one session. Peak RSS is the
/// process's high-water mark since the benchmark began (reset through /proc/self/clear_refs where Linux allows).
/// Node placement comes from a separate profiled session, so profiling never slows the timed runs.
/// </summary>
public static class Benchmark
{
    /// <summary>Runs the benchmark of the model at <paramref name="modelPath"/> on <paramref name="samples"/> (used in turn).</summary>
    /// <exception cref="ExecutionProviderException">The library lacks the provider the settings name.</exception>
    /// <exception cref="OrtException">ONNX Runtime rejected the model or the inputs.</exception>
    public static BenchmarkResult Run(string modelPath, IReadOnlyList<Sample> samples, RuntimeSettings settings, BenchmarkOptions options,
        IProgress<BenchmarkProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var problems = options.Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
        if (samples.Count == 0) throw new ArgumentException("no input samples to benchmark with");

        var library = settings.LoadLibrary();
        var ep = ExecutionProviders.Resolve(settings.ExecutionProvider ?? "cpu", library);
        foreach (var then in settings.ThenProviders ?? []) ExecutionProviders.Resolve(then.Name, library);
        ProcessMemory.ResetPeak();
        progress?.Report(new BenchmarkProgress("loading", 0, 0, 0));
        var loadStart = Stopwatch.GetTimestamp();
        InferenceSession session;
        using (var sessionOptions = settings.CreateSessionOptions(library)) session = new InferenceSession(library, modelPath, sessionOptions);
        var sessionLoadMs = Stopwatch.GetElapsedTime(loadStart).TotalMilliseconds;
        using (session)
        {
            var feeds = samples.Select(s => Feed.Create(library, session, s)).ToList();
            try
            {
                var outputNames = session.OutputNames;
                var firstRunMs = Time(session, feeds[0], outputNames);
                for (var i = 0; i < options.Warmup; i++)
                {
                    Time(session, feeds[(i + 1) % feeds.Count], outputNames);
                    progress?.Report(new BenchmarkProgress("warmup", i + 1, options.Warmup, 0));
                }
                var (latencies, wallSeconds) = TimedRuns(session, feeds, outputNames, options, progress);
                var peakRss = ProcessMemory.PeakRssBytes();
                var (onEp, total) = options.ProfileNodes ? CountNodes(library, modelPath, settings, feeds[0], ep) : ((int?)null, (int?)null);
                var label = settings.ThenProviders is { Count: > 0 } ? settings.ProviderLabel : ep.FriendlyName;
                return new BenchmarkResult(modelPath, library.Version, label, settings.IntraOpThreads, options.Concurrency,
                    latencies.Length, sessionLoadMs, firstRunMs, LatencyStats.From(latencies), latencies.Length / wallSeconds, peakRss, onEp, total);
            }
            finally
            {
                feeds.ForEach(f => f.Dispose());
            }
        }
    }

    /// <summary>The timed phase: Concurrency loops claim runs from one counter (or run until the deadline).</summary>
    private static (double[] Latencies, double WallSeconds) TimedRuns(InferenceSession session, List<Feed> feeds, IReadOnlyList<string> outputNames,
        BenchmarkOptions options, IProgress<BenchmarkProgress>? progress)
    {
        var total = options.Duration is null ? options.Runs : long.MaxValue;
        var deadlineTicks = options.Duration is { } d ? (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var perLoop = new List<double>[options.Concurrency];
        long claimed = 0;
        long done = 0;
        var start = Stopwatch.GetTimestamp();
        void Loop(int loop)
        {
            var mine = perLoop[loop] = new List<double>(options.Duration is null ? (int)Math.Min(total, 1 << 20) : 1024);
            while (true)
            {
                var n = Interlocked.Increment(ref claimed);
                if (n > total || Stopwatch.GetTimestamp() - start >= deadlineTicks) return;
                mine.Add(Time(session, feeds[(int)(n % feeds.Count)], outputNames));
                var finished = Interlocked.Increment(ref done);
                if (progress != null && ((finished & 15) == 0 || finished == total))
                {
                    var fraction = options.Duration is { } dd ? Math.Min(1, Stopwatch.GetElapsedTime(start).TotalSeconds / dd.TotalSeconds) : (double)finished / total;
                    progress.Report(new BenchmarkProgress("timed", finished, options.Duration is null ? total : 0, fraction));
                }
            }
        }
        if (options.Concurrency == 1)
        {
            Loop(0);
        }
        else
        {
            var threads = Enumerable.Range(0, options.Concurrency).Select(i => new Thread(() => Loop(i)) { IsBackground = true, Name = $"bench-{i}" }).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
        }
        var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var latencies = perLoop.SelectMany(l => l).ToArray();
        if (latencies.Length == 0) throw new ArgumentException("no timed run finished: give a longer --duration");
        return (latencies, wall);
    }

    /// <summary>One run of <paramref name="session"/> on <paramref name="feed"/>, in milliseconds (outputs released unread).</summary>
    internal static double Time(InferenceSession session, Feed feed, IReadOnlyList<string> outputNames)
    {
        var t0 = Stopwatch.GetTimestamp();
        using (session.Run(feed.Names, feed.Values, outputNames))
        {
        }
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    /// <summary>Nodes the provider ran and nodes in all, from a profiled session's run (after one unprofiled-equivalent warmup).</summary>
    private static (int? OnEp, int? Total) CountNodes(OrtLibrary library, string modelPath, RuntimeSettings settings, Feed feed, ExecutionProviderInfo ep)
    {
        var folder = Directory.CreateTempSubdirectory("edgeopt-profile-");
        try
        {
            using var options = settings.CreateSessionOptions(library, Path.Combine(folder.FullName, "profile"));
            using var session = new InferenceSession(library, modelPath, options);
            var names = session.OutputNames;
            Time(session, feed, names);
            Time(session, feed, names);
            var report = ProfileReport.Load(session.EndProfiling());
            var byNode = report.ProviderByNode;
            return (byNode.Values.Count(p => p == ep.ProviderName), byNode.Count);
        }
        finally
        {
            try
            {
                folder.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A profile left in the temp folder is harmless.
            }
        }
    }

    /// <summary>A sample's inputs as OrtValues in the session's input order, made once and reused by every run.</summary>
    internal sealed class Feed : IDisposable
    {
        private Feed(IReadOnlyList<string> names, List<OrtValue> values)
        {
            Names = names;
            Values = values;
        }

        public IReadOnlyList<string> Names { get; }

        public List<OrtValue> Values { get; }

        public static Feed Create(OrtLibrary library, InferenceSession session, Sample sample) =>
            new(session.InputNames, OrtTensors.ToOrtValues(library, session.InputNames, sample.Inputs, sample.Source));

        public void Dispose() => Values.ForEach(v => v.Dispose());
    }
}

/// <summary>Input samples for a benchmark or a check: real ones from a folder, or seeded random ones of the right shapes.</summary>
public static class BenchmarkInputs
{
    /// <summary>
    /// Samples for the model's runtime inputs (the graph inputs without an initializer, as ONNX Runtime lists them). From
    /// <paramref name="dataDir"/> in the ONNX test-data layout, else <paramref name="randomCount"/> seeded random samples;
    /// <paramref name="batch"/> fills a dynamic leading dimension.
    /// </summary>
    public static IReadOnlyList<Sample> Create(Model model, string? dataDir,
        IReadOnlyDictionary<string, long[]> shapes, int? batch, int randomCount, int seed = 0)
    {
        var inputs = model.Graph.Inputs.Where(i => !i.IsInitializer).ToList();
        if (dataDir != null)
        {
            var outputs = model.Graph.Outputs.ToList();
            return TestDataSets.Load(dataDir, inputs, outputs);
        }
        var filled = new Dictionary<string, long[]>(shapes, StringComparer.Ordinal);
        if (batch is { } b)
        {
            foreach (var input in inputs.Where(i => !filled.ContainsKey(i.Name)))
            {
                if (input.TensorType?.Shape is not { Count: > 0 } dims || dims[0].Value is not null) continue;
                if (dims.Skip(1).Any(d => d.Value is null)) continue;
                filled[input.Name] = [b, .. dims.Skip(1).Select(d => d.Value!.Value)];
            }
        }
        var unknown = shapes.Keys.Where(k => !inputs.Any(i => i.Name == k)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"--input-shape names {string.Join(", ", unknown.Select(u => $"'{u}'"))}, which the model does not have; its inputs are {string.Join(", ", inputs.Select(i => $"'{i.Name}'"))}");
        }
        return [.. Enumerable.Range(0, randomCount).Select(k => RandomInputs.Generate(inputs, filled, seed + k))];
    }
}
