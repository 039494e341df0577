using EdgeOpt.Onnx.Analysis;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Fidelity;

namespace EdgeOpt.Pipeline.Reports;

/// <summary>A place to time variants on: a label (target or board) and how ONNX Runtime runs there.</summary>
public sealed record TimingTarget(string Name, RuntimeSettings Settings);

/// <summary>Where a comparison is: which variant, which step.</summary>
public readonly record struct ComparisonProgress(string Variant, string Step, int Done, int Total);

/// <summary>
/// Measures a baseline model and its variants side by side into <see cref="ModelResults"/>: size, parameters, MACs and per-layer
/// MACs (at the first sample's shapes), fidelity against the baseline on the samples (lowest cosine and top-1 over outputs), and
/// latency on each target. Timing alternates the variants within each round and keeps, per variant and target, the round with
/// the median p50, so drift in the machine's speed falls on all alike.
/// </summary>
public static class Comparison
{
    public static ModelResults Run(string modelName, IReadOnlyList<(string Name, string Path)> variants, IReadOnlyList<Sample> samples,
        RuntimeSettings fidelitySettings, IReadOnlyList<TimingTarget> targets, BenchmarkOptions timing, int rounds = 1,
        IProgress<ComparisonProgress>? progress = null)
    {
        if (variants.Count == 0) throw new ArgumentException("nothing to compare: give the baseline model and its variants");
        if (samples.Count == 0) throw new ArgumentException("no samples to compare on");
        if (rounds < 1) throw new ArgumentException("rounds must be at least 1");
        var shapes = new ShapeInferenceOptions { InputShapes = samples[0].InputShapes() };
        var total = variants.Count * (2 + targets.Count * rounds);
        var done = 0;

        var stats = new List<(ModelStatistics Stats, long Bytes)>();
        foreach (var (name, path) in variants)
        {
            progress?.Report(new ComparisonProgress(name, "statistics", done++, total));
            var model = ModelReader.Read(path);
            stats.Add((ModelStatistics.Compute(model, ShapeInference.Infer(model, shapes)), ModelFiles.TotalBytes(model, path)));
        }

        var expected = ReferenceOutputs.Run(variants[0].Path, samples, fidelitySettings);
        var fidelity = new List<VerifyReport?> { null };
        foreach (var (name, path) in variants.Skip(1))
        {
            progress?.Report(new ComparisonProgress(name, "fidelity", done++, total));
            fidelity.Add(expected.Compare(path, fidelitySettings));
        }
        done++;

        var timings = new Dictionary<(int Variant, int Target), List<BenchmarkResult>>();
        for (var round = 0; round < rounds; round++)
        {
            for (var t = 0; t < targets.Count; t++)
            {
                for (var v = 0; v < variants.Count; v++)
                {
                    progress?.Report(new ComparisonProgress(variants[v].Name, $"timing on {targets[t].Name}", done++, total));
                    var result = Benchmark.Run(variants[v].Path, [samples[0]], targets[t].Settings, timing);
                    if (!timings.TryGetValue((v, t), out var list)) timings[(v, t)] = list = [];
                    list.Add(result);
                }
            }
        }

        var baseLayers = stats[0].Stats.Layers;
        var results = new List<VariantResult>();
        for (var v = 0; v < variants.Count; v++)
        {
            var (s, bytes) = stats[v];
            var latency = Enumerable.Range(0, targets.Count).Select(t =>
            {
                var median = timings[(v, t)].OrderBy(r => r.LatencyMs.P50).ElementAt(timings[(v, t)].Count / 2);
                return new VariantLatency(targets[t].Name, median.Ep, median.Threads, median.LatencyMs.P50, median.LatencyMs.P90, median.LatencyMs.P99, median.ThroughputPerSec);
            }).ToList();
            var byName = s.Layers.GroupBy(l => l.Node).ToDictionary(g => g.Key, g => g.First());
            var layers = v == 0 ? [] : baseLayers.Select(l => new LayerMacs(l.Node, l.OpType, l.Macs, byName.GetValueOrDefault(l.Node)?.Macs)).ToList();
            results.Add(new VariantResult(variants[v].Name, variants[v].Path, bytes, s.Parameters, s.Macs,
                fidelity[v]?.MinCosine, fidelity[v]?.MinTop1, latency, layers));
        }
        return new ModelResults(modelName, results, variants[0].Name);
    }
}
