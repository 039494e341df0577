using System.Diagnostics;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;

namespace EdgeOpt.Pipeline.Benchmarking;

/// <summary>
/// Times small models side by side: the latency table behind rank selection by latency (a layer and each candidate that could
/// replace it, each as a model of its own; NetAdapt's layer-wise look-up table, measured rather than modelled). An interface, so
/// selection logic can be tested with latencies that do not depend on the machine.
/// </summary>
public interface ILatencyProbe
{
    /// <summary>Where the models run, for reports (e.g. "cpu, 1 thread").</summary>
    string Label { get; }

    /// <summary>The latency in milliseconds of each model, measured side by side. Inputs must have static shapes.</summary>
    IReadOnlyList<double> Time(IReadOnlyList<Model> models);
}

/// <summary>How <see cref="OrtLatencyProbe"/> times.</summary>
/// <param name="Rounds">Rounds; each runs every model in turn (the order rotating) and keeps that round's median per model.</param>
/// <param name="RoundMilliseconds">Each model runs at least this long per round (and at least <paramref name="MinRuns"/> times).</param>
/// <param name="MinRuns">Fewest timed runs per model and round.</param>
/// <param name="Warmup">Untimed runs per model before the first round.</param>
public sealed record LatencyProbeOptions(int Rounds = 5, double RoundMilliseconds = 15, int MinRuns = 3, int Warmup = 3)
{
    public IEnumerable<string> Validate()
    {
        if (Rounds < 1) yield return $"Rounds must be ≥ 1, not {Rounds}";
        if (!(RoundMilliseconds >= 0) || double.IsInfinity(RoundMilliseconds)) yield return $"RoundMilliseconds must be a finite value ≥ 0, not {RoundMilliseconds}";
        if (MinRuns < 1) yield return $"MinRuns must be ≥ 1, not {MinRuns}";
        if (Warmup < 0) yield return $"Warmup must be ≥ 0, not {Warmup}";
    }
}

/// <summary>
/// Times models in ONNX Runtime with the given settings (execution provider, threads): one session per model, seeded random
/// inputs of each model's static input shapes made once, then rounds alternating the models. A model's latency is the lowest of
/// its per-round medians: background load only ever adds time, so the quietest round is the best estimate of the model's own cost,
/// and alternating keeps a burst of load from favouring one model.
/// </summary>
public sealed class OrtLatencyProbe(RuntimeSettings settings, LatencyProbeOptions? options = null) : ILatencyProbe
{
    private readonly LatencyProbeOptions _options = Check(options ?? new LatencyProbeOptions());

    public string Label => $"{settings.ProviderLabel}, {(settings.IntraOpThreads == 0 ? "auto threads" : settings.IntraOpThreads == 1 ? "1 thread" : $"{settings.IntraOpThreads} threads")}";

    /// <exception cref="ArgumentException">A model has an input without a static shape.</exception>
    /// <exception cref="OrtException">ONNX Runtime rejected a model.</exception>
    public IReadOnlyList<double> Time(IReadOnlyList<Model> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0) return [];
        var library = settings.LoadLibrary();
        var runs = new List<Timed>(models.Count);
        try
        {
            for (var i = 0; i < models.Count; i++) runs.Add(Timed.Open(library, models[i], settings, seed: i));
            foreach (var r in runs)
            {
                for (var w = 0; w < _options.Warmup; w++) r.RunOnce();
            }
            var best = Enumerable.Repeat(double.PositiveInfinity, models.Count).ToArray();
            var times = new List<double>();
            for (var round = 0; round < _options.Rounds; round++)
            {
                for (var k = 0; k < runs.Count; k++)
                {
                    var i = (k + round) % runs.Count;
                    times.Clear();
                    var start = Stopwatch.GetTimestamp();
                    while (times.Count < _options.MinRuns || Stopwatch.GetElapsedTime(start).TotalMilliseconds < _options.RoundMilliseconds)
                    {
                        times.Add(runs[i].RunOnce());
                    }
                    best[i] = Math.Min(best[i], LatencyStats.Median(times));
                }
            }
            return best;
        }
        finally
        {
            runs.ForEach(r => r.Dispose());
        }
    }

    private static LatencyProbeOptions Check(LatencyProbeOptions options)
    {
        var problems = options.Validate().ToList();
        return problems.Count == 0 ? options : throw new ArgumentException(string.Join("; ", problems));
    }

    /// <summary>One model's session with its inputs made once (<see cref="Benchmark.Feed"/>), run as the benchmark runs.</summary>
    private sealed class Timed : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly Benchmark.Feed _feed;

        private Timed(InferenceSession session, Benchmark.Feed feed)
        {
            _session = session;
            _feed = feed;
        }

        public static Timed Open(OrtLibrary library, Model model, RuntimeSettings settings, int seed)
        {
            var sample = RandomInputs.Generate(model.Graph.Inputs.Where(v => !v.IsInitializer).ToList(), new Dictionary<string, long[]>(), seed);
            InferenceSession session;
            using (var options = settings.CreateSessionOptions(library)) session = new InferenceSession(library, ModelWriter.ToBytes(model), options);
            try
            {
                return new Timed(session, Benchmark.Feed.Create(library, session, sample));
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }

        /// <summary>One run, in milliseconds.</summary>
        public double RunOnce() => Benchmark.Time(_session, _feed, _session.OutputNames);

        public void Dispose()
        {
            _feed.Dispose();
            _session.Dispose();
        }
    }
}
