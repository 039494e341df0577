using System.Diagnostics;
using System.Globalization;
using EdgeOpt.Onnx.Analysis;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Fidelity;

namespace EdgeOpt.Pipeline.Optimization;

/// <summary>What an accuracy target measures against the float reference on the evaluation data.</summary>
public enum AccuracyMetric
{
    /// <summary>The lowest cosine similarity over the model's outputs.</summary>
    Cosine,

    /// <summary>The lowest top-1 (arg-max over the last axis) agreement over the outputs that look like class scores.</summary>
    Top1,
}

/// <summary>An accuracy bound, e.g. <c>cosine=0.99</c> or <c>top1=0.99</c>.</summary>
public sealed record AccuracyTarget(AccuracyMetric Metric, double Value)
{
    /// <summary>Parses <c>cosine=0.99</c> or <c>top1=0.99</c>.</summary>
    /// <exception cref="ArgumentException">Not of that form; the message shows the form.</exception>
    public static AccuracyTarget Parse(string text)
    {
        var parts = (text ?? "").Split('=', 2, StringSplitOptions.TrimEntries);
        var metric = parts[0].ToLowerInvariant() switch
        {
            "cosine" or "cos" => AccuracyMetric.Cosine,
            "top1" or "top-1" => AccuracyMetric.Top1,
            _ => throw new ArgumentException($"--accuracy-target '{text}': the metric must be cosine or top1 (e.g. cosine=0.99 or top1=0.99)"),
        };
        if (parts.Length < 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0 && value <= 1))
        {
            throw new ArgumentException($"--accuracy-target '{text}': the bound must be a number in (0, 1], e.g. {parts[0]}=0.99");
        }
        return new AccuracyTarget(metric, value);
    }

    public override string ToString() => $"{(Metric == AccuracyMetric.Cosine ? "cosine" : "top1")} ≥ {Value.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>How <see cref="AccuracyFallback"/> measures a node's share of the output error.</summary>
/// <remarks>
/// Measured on ppocrv4_rec (cosine ≥ 0.99): leave-one-out met the target with 15 % of the quantized MACs back in float,
/// isolated with 98 % (a node quantized alone pays for Q/DQ its neighbours would share); on ppocrv4_det both kept 2–3 nodes.
/// </remarks>
public enum SensitivityMethod
{
    /// <summary>Quantize everything but that node and measure how much the error falls: its contribution within the quantized model (default).</summary>
    LeaveOneOut,

    /// <summary>Quantize that node alone (everything else float) and measure the output error.</summary>
    Isolated,
}

/// <summary>Which nodes a candidate quantizes: never those in <paramref name="Float"/>; when <paramref name="Only"/> is set, only those.</summary>
public sealed record QuantSelection(IReadOnlyCollection<string> Float, IReadOnlyCollection<string>? Only = null);

/// <summary>Settings of <see cref="AccuracyFallback"/>.</summary>
/// <param name="Target">The bound the quantized model must meet on the evaluation samples.</param>
/// <param name="Settings">How the candidates run in ONNX Runtime.</param>
/// <param name="MaxFloatNodes">Give up (target missed) rather than keep more than this many nodes in float; null: no limit.</param>
/// <param name="CostRuns">Timed runs per model when measuring the latency cost of the float nodes (0: not measured).</param>
/// <param name="Method">How node sensitivity is measured.</param>
public sealed record FallbackOptions(AccuracyTarget Target, RuntimeSettings Settings, int? MaxFloatNodes = null, int CostRuns = 30,
    SensitivityMethod Method = SensitivityMethod.LeaveOneOut);

/// <summary>One quantized node's share of the output error.</summary>
/// <param name="Node">Node name.</param>
/// <param name="OpType">Its op type.</param>
/// <param name="Macs">Its multiply-accumulates (null where shapes are unknown).</param>
/// <param name="Error">The output error (Σ over outputs of 1 − cosine) of the probe: only this node quantized (<see cref="SensitivityMethod.Isolated"/>) or all but this node (<see cref="SensitivityMethod.LeaveOneOut"/>).</param>
/// <param name="Score">How harmful the node is (higher: kept float sooner): <paramref name="Error"/> itself (isolated) or the error it removes when float (leave-one-out).</param>
public sealed record NodeSensitivity(string Node, string OpType, long? Macs, double Error, double Score);

/// <summary>What keeping the chosen nodes in float costs, measured on the settings' execution provider.</summary>
public sealed record FallbackCost(long BytesAllInt8, long BytesFinal, double P50AllInt8Ms, double P50FinalMs)
{
    /// <summary>p50 of the final model over p50 of the fully quantized one (1.1: 10 % slower).</summary>
    public double LatencyRatio => P50FinalMs / P50AllInt8Ms;
}

/// <summary>The outcome of an accuracy-aware quantization.</summary>
/// <param name="Target">The bound asked for.</param>
/// <param name="Method">How sensitivity was measured.</param>
/// <param name="Samples">Evaluation samples used.</param>
/// <param name="MetricAllInt8">The metric with every candidate quantized.</param>
/// <param name="MetricFinal">The metric of the model written.</param>
/// <param name="Met">Whether <paramref name="MetricFinal"/> meets the target.</param>
/// <param name="Sensitivities">Every quantized node, most harmful first (empty when the target was met at once).</param>
/// <param name="FloatNodes">The nodes kept in float to meet the target, most harmful first.</param>
/// <param name="FloatMacs">Their multiply-accumulates.</param>
/// <param name="QuantizedMacs">The multiply-accumulates of every candidate node (FloatMacs / QuantizedMacs: the share left in float).</param>
/// <param name="Evaluations">Candidate models built and evaluated.</param>
/// <param name="Seconds">Wall time of the search.</param>
/// <param name="Cost">What the float nodes cost in size and latency (null when nothing stayed float or timing was off).</param>
public sealed record FallbackResult(
    AccuracyTarget Target,
    SensitivityMethod Method,
    int Samples,
    double MetricAllInt8,
    double MetricFinal,
    bool Met,
    IReadOnlyList<NodeSensitivity> Sensitivities,
    IReadOnlyList<NodeSensitivity> FloatNodes,
    long FloatMacs,
    long QuantizedMacs,
    int Evaluations,
    double Seconds,
    FallbackCost? Cost);

/// <summary>Where the search is: phase ("reference", "sensitivity", "search", "cost") and candidates done of total.</summary>
public readonly record struct FallbackProgress(string Phase, int Done, int Total);

/// <summary>
/// Accuracy-aware quantization: quantizes every candidate, and when the result misses the target on the evaluation
/// samples, measures each quantized node's sensitivity (<see cref="SensitivityMethod"/>: by default how much the output
/// error falls when that node alone stays float), then keeps
/// the most harmful nodes in float — the fewest, found by doubling then bisecting over the sensitivity order — until the
/// target is met; then drops, costliest first, each kept node the target turns out not to need. Every decision is measured in ONNX Runtime against the float reference; calibration runs once (its
/// table is reused by every candidate). The model written is one that was measured.
/// </summary>
public sealed class AccuracyFallback(
    Func<QuantSelection, IPass> quantizer,
    Func<Model, IReadOnlyList<Sample>> evaluationData,
    FallbackOptions options,
    IProgress<FallbackProgress>? progress = null) : IModelStage
{
    /// <summary>The result of the last <see cref="Apply"/>.</summary>
    public FallbackResult? LastResult { get; private set; }

    public Model Apply(Model reference, Model model, PassContext context, List<PassReport> reports)
    {
        var evaluation = evaluationData(reference);
        if (evaluation.Count == 0) throw new ArgumentException("the evaluation data holds no samples; --accuracy-target needs --eval-data with a few representative inputs");
        var clock = Stopwatch.StartNew();
        NameUnnamedNodes(model);
        var cached = new PassContext
        {
            Cancellation = context.Cancellation,
            Calibration = context.Calibration is { } c ? new CachedCalibration(c) : null,
        };

        progress?.Report(new FallbackProgress("reference", 0, evaluation.Count));
        var expected = ReferenceOutputs.Run(reference, evaluation, options.Settings);

        var evaluations = 0;
        Candidate Evaluate(IReadOnlyCollection<string> floatNodes, IReadOnlyCollection<string>? only = null)
        {
            cached.Cancellation.ThrowIfCancellationRequested();
            evaluations++;
            var copy = ModelReader.Copy(model);
            var pass = quantizer(new QuantSelection(floatNodes, only));
            var report = pass.Run(copy, cached);
            var quantized = pass switch
            {
                QuantizeStaticPass s => s.LastQuantized,
                QuantizeDynamicPass d => d.LastQuantized,
                _ => throw new InvalidOperationException($"{pass.Id} is not a quantization pass"),
            };
            return new Candidate(copy, report, quantized, expected.Compare(copy, options.Settings), [.. floatNodes]);
        }

        var all = Evaluate([]);
        var allMetric = Metric(all.Verdict);
        var macs = MacsByNode(model, evaluation[0]);
        var candidates = all.Quantized.Where(q => q.Name.Length > 0).ToList();
        var best = all;
        List<NodeSensitivity> sensitivities = [];
        List<NodeSensitivity> kept = [];
        if (!Meets(allMetric) && candidates.Count > 0)
        {
            var baseError = Error(all.Verdict);
            for (var i = 0; i < candidates.Count; i++)
            {
                progress?.Report(new FallbackProgress("sensitivity", i, candidates.Count));
                var name = candidates[i].Name;
                var probe = options.Method == SensitivityMethod.Isolated ? Evaluate([], [name]) : Evaluate([name]);
                var error = Error(probe.Verdict);
                var score = options.Method == SensitivityMethod.Isolated ? error : baseError - error;
                sensitivities.Add(new NodeSensitivity(name, candidates[i].OpType, macs.GetValueOrDefault(name), error, score));
            }
            sensitivities = [.. sensitivities.OrderByDescending(s => s.Score).ThenBy(s => s.Macs ?? 0)];
            var order = sensitivities;
            var limit = Math.Min(order.Count, options.MaxFloatNodes ?? int.MaxValue);
            (best, var count) = Search(limit, k => Evaluate([.. order.Take(k).Select(s => s.Node)]), all);
            kept = [.. order.Take(count)];
            if (Meets(Metric(best.Verdict)) && kept.Count > 1)
            {
                // The order is a guess (sensitivities measured one node at a time); drop what the target turns out not to need,
                // costliest first, each drop measured.
                var costliest = kept.OrderByDescending(n => n.Macs ?? 0).ToList();
                for (var i = 0; i < costliest.Count; i++)
                {
                    var node = costliest[i];
                    progress?.Report(new FallbackProgress("trim", i, costliest.Count));
                    var without = kept.Where(n => n != node).ToList();
                    var trial = Evaluate([.. without.Select(n => n.Node)]);
                    if (!Meets(Metric(trial.Verdict))) continue;
                    (best, kept) = (trial, without);
                }
            }
        }
        var finalMetric = Metric(best.Verdict);

        FallbackCost? cost = null;
        if (kept.Count > 0 && options.CostRuns > 0)
        {
            progress?.Report(new FallbackProgress("cost", 0, 2));
            cost = MeasureCost(all.Model, best.Model, evaluation[0]);
        }
        reports.Add(best.Report);
        var quantizedMacs = candidates.Sum(c => macs.GetValueOrDefault(c.Name) ?? 0);
        LastResult = new FallbackResult(options.Target, options.Method, evaluation.Count, allMetric, finalMetric, Meets(finalMetric), sensitivities, kept,
            kept.Sum(k => k.Macs ?? 0), quantizedMacs, evaluations, clock.Elapsed.TotalSeconds, cost);
        return best.Model;
    }

    /// <summary>
    /// The smallest k (of <paramref name="limit"/>) whose model meets the target: k = 1, 2, 4, … until one meets it, then
    /// bisection between the last miss and the first hit. Returns the best model measured (the first hit, or the highest
    /// metric when none meets the target) and its k.
    /// </summary>
    private (Candidate Model, int Count) Search(int limit, Func<int, Candidate> evaluate, Candidate none)
    {
        var measured = new Dictionary<int, Candidate> { [0] = none };
        Candidate At(int k)
        {
            if (!measured.TryGetValue(k, out var c))
            {
                progress?.Report(new FallbackProgress("search", measured.Count, measured.Count + 1));
                measured[k] = c = evaluate(k);
            }
            return c;
        }
        int miss = 0, hit = -1;
        for (var k = 1; k <= limit; k = k >= limit ? limit + 1 : Math.Min(limit, k * 2))
        {
            if (Meets(Metric(At(k).Verdict))) { hit = k; break; }
            miss = k;
        }
        if (hit < 0)
        {
            var top = measured.MaxBy(p => (Metric(p.Value.Verdict), -p.Key));
            return (top.Value, top.Key);
        }
        while (hit - miss > 1)
        {
            var mid = (miss + hit) / 2;
            if (Meets(Metric(At(mid).Verdict))) hit = mid;
            else miss = mid;
        }
        return (measured[hit], hit);
    }

    private bool Meets(double metric) => metric >= options.Target.Value;

    private double Metric(VerifyReport verdict) => options.Target.Metric switch
    {
        AccuracyMetric.Cosine => verdict.MinCosine,
        _ => verdict.MinTop1 ?? throw new ArgumentException(
            "--accuracy-target top1 needs an output of class scores (arg-max over the last axis); this model has none: use cosine=…"),
    };

    /// <summary>Σ over outputs of 1 − cosine: the continuous error used to rank nodes (top-1 agreement is too coarse on a few samples).</summary>
    private static double Error(VerifyReport verdict) => verdict.Outputs.Sum(o => 1 - o.VersusReference.Cosine);

    private FallbackCost MeasureCost(Model allInt8, Model final, Sample sample)
    {
        var dir = Directory.CreateTempSubdirectory("edgeopt-fallback-");
        try
        {
            var allPath = Path.Combine(dir.FullName, "all-int8.onnx");
            var finalPath = Path.Combine(dir.FullName, "final.onnx");
            var allBytes = ModelWriter.Write(allInt8, allPath).TotalBytes;
            var finalBytes = ModelWriter.Write(final, finalPath).TotalBytes;
            var bench = new BenchmarkOptions(Warmup: 5, Runs: options.CostRuns, ProfileNodes: false);
            var samples = new[] { sample };
            // Alternate the two so drift in the machine's speed falls on both alike.
            double allP50 = double.MaxValue, finalP50 = double.MaxValue;
            for (var round = 0; round < 2; round++)
            {
                allP50 = Math.Min(allP50, Benchmark.Run(allPath, samples, options.Settings, bench).LatencyMs.P50);
                finalP50 = Math.Min(finalP50, Benchmark.Run(finalPath, samples, options.Settings, bench).LatencyMs.P50);
            }
            return new FallbackCost(allBytes, finalBytes, allP50, finalP50);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Each node's MACs at the shapes of <paramref name="sample"/> (the model's inputs may have dynamic dimensions).</summary>
    private static Dictionary<string, long?> MacsByNode(Model model, Sample sample)
    {
        var shapes = ShapeInference.Infer(model, new ShapeInferenceOptions
        {
            InputShapes = sample.InputShapes(),
        });
        var result = new Dictionary<string, long?>(StringComparer.Ordinal);
        foreach (var node in model.Graph.Nodes) result.TryAdd(node.Name, CostModel.Macs(node, shapes));
        return result;
    }

    /// <summary>Gives every unnamed main-graph node a unique name (<c>OpType_k</c>): exclusion lists go by name.</summary>
    private static void NameUnnamedNodes(Model model)
    {
        var names = new HashSet<string>(model.Graph.Nodes.Select(n => n.Name), StringComparer.Ordinal);
        var k = 0;
        foreach (var node in model.Graph.Nodes.Where(n => n.Name.Length == 0))
        {
            string name;
            do name = $"{node.OpType}_{k++}"; while (!names.Add(name));
            node.Name = name;
        }
    }

    private sealed record Candidate(Model Model, PassReport Report, IReadOnlyList<QuantizedNode> Quantized, VerifyReport Verdict, IReadOnlyList<string> FloatNodes);

    /// <summary>Calibrates once and answers later requests for the same (or fewer) tensors from that table.</summary>
    private sealed class CachedCalibration(ICalibrationProvider inner) : ICalibrationProvider
    {
        private readonly HashSet<string> _requested = new(StringComparer.Ordinal);
        private readonly Dictionary<string, TensorRange> _ranges = new(StringComparer.Ordinal);
        private CalibrationTable? _table;

        public CalibrationTable Calibrate(Model model, IReadOnlyList<string> tensors, CancellationToken cancellation)
        {
            if (_table != null && tensors.All(_requested.Contains)) return _table;
            var fresh = inner.Calibrate(model, tensors, cancellation);
            _requested.UnionWith(tensors);
            foreach (var (name, range) in fresh.Ranges) _ranges[name] = range;
            _table = fresh with { Ranges = new Dictionary<string, TensorRange>(_ranges, StringComparer.Ordinal) };
            return _table;
        }
    }
}
