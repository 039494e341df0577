using System.Diagnostics;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Fidelity;

namespace EdgeOpt.Pipeline.Optimization;

/// <summary>Which pruning a sensitivity analysis measures.</summary>
public enum PruneMethod
{
    /// <summary><c>prune-channels</c>: the ratio is the share of a group's output channels removed; the saving counted is MACs.</summary>
    Channels,

    /// <summary><c>prune-magnitude</c>: the ratio is the layer's sparsity; the saving counted is weights zeroed.</summary>
    Magnitude,
}

/// <summary>One layer pruned alone at one ratio: the fidelity of the whole model and what it saves.</summary>
/// <param name="Ratio">Channel ratio or sparsity.</param>
/// <param name="Cosine">The lowest output cosine against the unpruned model on the samples.</param>
/// <param name="Saved">MACs saved (channels; null where shapes are unknown) or weights zeroed (magnitude).</param>
public sealed record SensitivityPoint(double Ratio, double Cosine, long? Saved);

/// <summary>One layer (a channel group is named by its first layer) and its points, or why it cannot be pruned.</summary>
public sealed record LayerSensitivity(string Node, string OpType, IReadOnlyList<SensitivityPoint> Points, string? SkipReason = null);

/// <summary>
/// The per-layer analysis behind <c>edgeopt sensitivity</c>: each layer pruned alone at several ratios. <paramref name="Total"/>
/// is the model's MACs (channels) or the prunable weights (magnitude): the base the savings are shares of.
/// </summary>
public sealed record SensitivityTable(PruneMethod Method, int Samples, long? Total, IReadOnlyList<double> Ratios, IReadOnlyList<LayerSensitivity> Layers, double Seconds);

/// <summary>Where an analysis is: layers × ratios measured of the total.</summary>
public readonly record struct SensitivityProgress(int Done, int Total, string Layer);

/// <summary>
/// Per-layer pruning sensitivity (like AIMET's per-layer analysis): prunes each layer alone at each ratio, runs the model in
/// ONNX Runtime on the samples, and records the fidelity against the unpruned model with the saving. <see cref="Choose"/> then
/// picks per-layer ratios that reach a saving target with the least predicted fidelity loss.
/// </summary>
public static class PruningSensitivity
{
    /// <summary>Default channel ratios measured.</summary>
    public static IReadOnlyList<double> ChannelRatios { get; } = [0.1, 0.2, 0.3, 0.5, 0.7, 0.85];

    /// <summary>Default sparsities measured.</summary>
    public static IReadOnlyList<double> Sparsities { get; } = [0.5, 0.7, 0.8, 0.9, 0.95];

    /// <summary>
    /// Measures <paramref name="model"/> (as cleaned; never modified). <paramref name="channels"/>/<paramref name="magnitude"/> carry
    /// the options the pruning will use (criterion, channel multiple, input shapes, first/last layers dense…); their ratios and
    /// per-layer maps are replaced.
    /// </summary>
    /// <exception cref="ArgumentException">No samples, or no ratios in (0, 1).</exception>
    public static SensitivityTable Measure(Model model, PruneMethod method, IReadOnlyList<Sample> samples, RuntimeSettings settings,
        IReadOnlyList<double>? ratios = null, PruneChannelsOptions? channels = null, PruneMagnitudeOptions? magnitude = null,
        IProgress<SensitivityProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (samples.Count == 0) throw new ArgumentException("the sensitivity analysis needs samples: pass --data DIR with a few representative inputs");
        ratios ??= method == PruneMethod.Channels ? ChannelRatios : Sparsities;
        if (ratios.Count == 0 || ratios.Any(r => !(r > 0 && r < 1))) throw new ArgumentException($"ratios must lie in (0, 1): {string.Join(", ", ratios)}");
        ratios = [.. ratios.Distinct().Order()];
        channels ??= new PruneChannelsOptions();
        if (channels.InputShapes.Count == 0)
        {
            // MACs need concrete shapes: take the first sample's.
            channels = channels with { InputShapes = samples[0].InputShapes() };
        }
        magnitude ??= new PruneMagnitudeOptions();
        var clock = Stopwatch.StartNew();

        var expected = ReferenceOutputs.Run(model, samples, settings);
        double Cosine(Model candidate) => expected.Compare(candidate, settings).MinCosine;

        var layers = new List<LayerSensitivity>();
        long? total;
        if (method == PruneMethod.Channels)
        {
            var options = channels with { LayerRatios = new Dictionary<string, double>(), Ratio = 0 };
            var candidates = PruneChannelsPass.Analyze(model, options);
            var pruneable = candidates.Where(c => c.Group != null).ToList();
            total = null;
            var done = 0;
            foreach (var candidate in candidates)
            {
                if (candidate.Group == null)
                {
                    layers.Add(new LayerSensitivity(candidate.Node, candidate.OpType, [], candidate.SkipReason));
                    continue;
                }
                var points = new List<SensitivityPoint>();
                foreach (var ratio in ratios)
                {
                    cancellation.ThrowIfCancellationRequested();
                    progress?.Report(new SensitivityProgress(done++, pruneable.Count * ratios.Count, candidate.Node));
                    var copy = ModelReader.Copy(model);
                    var pass = new PruneChannelsPass(options with { IncludeNodes = [candidate.Node], LayerRatios = new Dictionary<string, double> { [candidate.Node] = ratio } });
                    pass.Run(copy, PassContext.Default);
                    var result = pass.LastResult!;
                    total ??= result.MacsBefore;
                    if (result.Layers.Count == 0) continue;
                    points.Add(new SensitivityPoint(ratio, Cosine(copy), result.MacsBefore - result.MacsAfter));
                }
                layers.Add(new LayerSensitivity(candidate.Node, candidate.OpType, points, points.Count == 0 ? "keeps every channel at these ratios (MinChannels/ChannelMultiple)" : null));
            }
        }
        else
        {
            var options = magnitude with { LayerSparsity = new Dictionary<string, double>(), Granularity = PruneGranularity.Layer };
            var probe = new PruneMagnitudePass(options with { Sparsity = ratios[0] });
            probe.Run(ModelReader.Copy(model), PassContext.Default);
            var prunable = probe.LastSummary!.Layers;
            total = prunable.Sum(l => l.Parameters);
            var done = 0;
            foreach (var layer in prunable)
            {
                var points = new List<SensitivityPoint>();
                foreach (var ratio in ratios)
                {
                    cancellation.ThrowIfCancellationRequested();
                    progress?.Report(new SensitivityProgress(done++, prunable.Count * ratios.Count, layer.Node));
                    var copy = ModelReader.Copy(model);
                    var pass = new PruneMagnitudePass(options with
                    {
                        Sparsity = 0,
                        IncludeNodes = [layer.Node],
                        KeepFirstAndLastDense = false,
                        LayerSparsity = new Dictionary<string, double> { [layer.Node] = ratio },
                    });
                    pass.Run(copy, PassContext.Default);
                    var zeroed = pass.LastSummary!.Layers.Where(l => l.Node == layer.Node).Sum(l => l.ZerosAfter - l.ZerosBefore);
                    points.Add(new SensitivityPoint(ratio, Cosine(copy), zeroed));
                }
                layers.Add(new LayerSensitivity(layer.Node, layer.OpType, points));
            }
        }
        return new SensitivityTable(method, samples.Count, total, ratios, layers, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Per-layer ratios that save at least <paramref name="saving"/> of <see cref="SensitivityTable.Total"/> (e.g. 0.5: half the
    /// MACs, or half the prunable weights zeroed) with the least predicted loss (Σ of 1 − cosine, layers assumed independent):
    /// starting from nothing pruned, repeatedly move the layer whose next measured ratio costs the least loss per unit saved.
    /// Returns the ratios (layers left unpruned are absent) and the saving predicted; fewer than asked when the table runs out.
    /// </summary>
    /// <exception cref="ArgumentException">The saving is not in (0, 1), or the table has no total (unknown shapes: pass --input-shape).</exception>
    public static (IReadOnlyDictionary<string, double> Ratios, double PredictedSaving) Choose(SensitivityTable table, double saving)
    {
        if (!(saving > 0 && saving < 1)) throw new ArgumentException($"the saving target must lie in (0, 1), not {saving}");
        if (table.Total is not > 0) throw new ArgumentException("the sensitivity table has no MAC count: pass --input-shape for the model's dynamic inputs");
        var total = (double)table.Total.Value;
        var level = new Dictionary<string, int>(StringComparer.Ordinal);
        var layers = table.Layers.Where(l => l.Points.Any(p => p.Saved > 0)).ToDictionary(l => l.Node, l => l.Points.Where(p => p.Saved > 0).ToList(), StringComparer.Ordinal);
        double saved = 0;
        while (saved < saving * total)
        {
            string? bestLayer = null;
            var bestCost = double.PositiveInfinity;
            foreach (var (node, points) in layers)
            {
                var at = level.GetValueOrDefault(node, -1);
                if (at + 1 >= points.Count) continue;
                var (lossNow, savedNow) = at < 0 ? (0.0, 0.0) : (Loss(points[at]), points[at].Saved!.Value);
                var next = points[at + 1];
                var gain = next.Saved!.Value - savedNow;
                if (gain <= 0) continue;
                var cost = Math.Max(0, Loss(next) - lossNow) / gain;
                if (cost < bestCost) (bestCost, bestLayer) = (cost, node);
            }
            if (bestLayer == null) break;
            var from = level.GetValueOrDefault(bestLayer, -1);
            saved += layers[bestLayer][from + 1].Saved!.Value - (from < 0 ? 0 : layers[bestLayer][from].Saved!.Value);
            level[bestLayer] = from + 1;
        }
        return (level.ToDictionary(p => p.Key, p => layers[p.Key][p.Value].Ratio, StringComparer.Ordinal), saved / total);
    }

    private static double Loss(SensitivityPoint p) => Math.Max(0, 1 - p.Cosine);
}
