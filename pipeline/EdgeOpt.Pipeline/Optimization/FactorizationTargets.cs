using System.Diagnostics;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Fidelity;

namespace EdgeOpt.Pipeline.Optimization;

/// <summary>What a rank selection target counts.</summary>
public enum RankObjective
{
    /// <summary>MACs saved, as a share of the factorizable layers' MACs.</summary>
    Macs,

    /// <summary>Latency saved (each candidate timed alone on the execution provider), as a share of the whole model's latency.</summary>
    Latency,
}

/// <summary>One way to factorize a layer, measured: the method and energy, the model's fidelity with this layer alone factorized, and its cost.</summary>
/// <param name="Method">The pass's name for the method (Svd, Tucker2, SpatialSvd, …).</param>
/// <param name="Cosine">The lowest output cosine of the whole model against the unfactorized one on the samples.</param>
/// <param name="MacsSaved">The layer's MACs minus its factors'.</param>
/// <param name="LatencyMs">The factors timed alone (null when latency is not measured).</param>
/// <param name="Template">The pass that makes this candidate (with <c>Energy</c> and <c>IncludeNodes</c> set by <see cref="FactorizationTargets.Passes"/>).</param>
public sealed record RankCandidate(string Method, double Energy, double Cosine, long MacsSaved, double? LatencyMs, IPass Template);

/// <summary>A factorizable layer: its cost, and the candidates kept for it (those not faster on the provider are dropped when latency is measured).</summary>
/// <param name="LatencyMs">The layer timed alone (null when latency is not measured).</param>
/// <param name="NotFaster">Candidates measured and dropped because their factors are not faster than the layer.</param>
public sealed record RankLayer(string Node, string OpType, long Macs, double? LatencyMs, IReadOnlyList<RankCandidate> Candidates, int NotFaster);

/// <summary>
/// The rank sensitivity table: per factorizable layer, its candidates. <paramref name="ModelLatencyMs"/> is the whole model timed
/// on the same provider (when latency is measured), the base a latency target is a share of.
/// </summary>
public sealed record RankTable(RankObjective Objective, int Samples, long Macs, double? ModelLatencyMs, string? LatencyLabel, IReadOnlyList<RankLayer> Layers,
    int Energies, double Seconds);

/// <summary>A factorized layer timed alone against its factors (<see cref="FactorizationTargets.DropSlower"/>).</summary>
public sealed record LayerTiming(string Node, string OpType, string Method, double OriginalMs, double FactorizedMs, bool Kept);

/// <summary>
/// Rank selection by a target: each layer the factorization passes would factorize, alone, at several energies and with each
/// method asked for (refit when asked), run in ONNX Runtime on the samples (cosine against the unfactorized model), with the MACs it saves and,
/// when a <see cref="ILatencyProbe"/> is given, the latency of its factors timed alone on the provider against the layer's own
/// (candidates that are not at least <see cref="MinLatencyGain"/> faster are dropped: on CPUs 1×1 convs and small layers often
/// are not). <see cref="Choose"/> then picks per layer the candidate that reaches the target with the least predicted loss
/// (<see cref="PruningSensitivity.Choose"/> over the lower convex hull of each layer's candidates), and <see cref="Passes"/> makes one pass per chosen layer.
/// </summary>
public static class FactorizationTargets
{
    /// <summary>The energies measured per layer and method.</summary>
    public static IReadOnlyList<double> Energies { get; } = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95];

    /// <summary>A candidate counts as faster when its factors take at most this share less than the layer (timing noise is about 1 %).</summary>
    public const double MinLatencyGain = 0.03;

    /// <summary>
    /// Measures the table for <paramref name="model"/> (as the passes before leave it; never modified). <paramref name="factorizers"/>
    /// are the pass templates (their Energy, RankRatio, Refit and IncludeNodes are replaced per candidate); several may offer the
    /// same layer (e.g. spatial SVD and Tucker-2 for a 3×3 conv): all their candidates compete.
    /// </summary>
    /// <exception cref="ArgumentException">No samples; nothing factorizable; unknown MACs; a latency objective without a probe.</exception>
    /// <param name="refit">Measure each candidate as it will be used: refit on <paramref name="samples"/> where the template refits
    /// (<see cref="FactorizeOptions.Refit"/>). Refit shrinks layers' errors unevenly (1×1 convs and spatial SVD recover much more than
    /// Tucker-2 cores), so data-free losses would rank the candidates wrongly; it costs one activation run per candidate.</param>
    public static RankTable Measure(Model model, IReadOnlyList<IPass> factorizers, IReadOnlyList<Sample> samples, RuntimeSettings settings,
        PassCatalog catalog, RankObjective objective = RankObjective.Macs, ILatencyProbe? latency = null, bool refit = false,
        IProgress<SensitivityProgress>? progress = null)
    {
        if (samples.Count == 0) throw new ArgumentException("a rank target needs samples to measure fidelity on: pass --calibration-data DIR");
        if (objective == RankObjective.Latency && latency == null) throw new ArgumentException("a latency target needs a latency probe (the provider to time on)");
        var clock = Stopwatch.StartNew();
        var inputShapes = samples[0].InputShapes();
        var expected = ReferenceOutputs.Run(model, samples, settings);
        var shapes = ShapeInference.Infer(model, new ShapeInferenceOptions { InputShapes = inputShapes });

        var offers = new List<(string Node, string OpType, long Macs, IPass Template)>();
        foreach (var template in factorizers)
        {
            var probe = With(catalog, template, o => o with { Energy = Energies[0], RankRatio = null, Refit = false, InputShapes = inputShapes });
            probe.Run(ModelReader.Copy(model), PassContext.Default);
            foreach (var layer in (probe as IFactorizationPass)?.LastResult?.Layers ?? [])
            {
                if (offers.Any(o => o.Node == layer.Node && o.Template == template)) continue;
                offers.Add((layer.Node, layer.OpType, layer.MacsBefore ?? -1, template));
            }
        }
        if (offers.Count == 0) throw new ArgumentException("no layer of this model can be factorized to save MACs: nothing to choose ranks for");
        if (offers.Any(c => c.Macs <= 0)) throw new ArgumentException("MACs of some layers are unknown: pass --input-shape for the model's dynamic inputs");

        double? modelBefore = latency?.Time([WithStaticInputs(model, inputShapes)])[0];
        var context = refit ? new PassContext { Activations = new OrtActivationProvider(_ => samples, settings) } : PassContext.Default;
        var nodes = offers.Select(o => o.Node).Distinct(StringComparer.Ordinal).ToList();
        var steps = offers.Count * Energies.Count;
        var done = 0;
        var layers = new List<RankLayer>();
        foreach (var node in nodes)
        {
            var measured = new List<(RankCandidate Candidate, Model? Factors)>();
            foreach (var (_, _, _, template) in offers.Where(o => o.Node == node))
            {
                foreach (var energy in Energies)
                {
                    progress?.Report(new SensitivityProgress(done++, steps, node));
                    var copy = ModelReader.Copy(model);
                    var pass = With(catalog, template, o => o with { Energy = energy, RankRatio = null, Refit = refit && o.Refit, IncludeNodes = [node], InputShapes = inputShapes });
                    pass.Run(copy, context);
                    if ((pass as IFactorizationPass)?.LastResult?.Layers.FirstOrDefault(l => l.Node == node) is not { MacsBefore: { } before, MacsAfter: { } after } layer) continue;
                    // Two energies can give the same ranks (rounded to RankMultiple): measure each distinct factorization once.
                    if (measured.Any(m => m.Candidate.Method == layer.Method && m.Candidate.MacsSaved == before - after && m.Candidate.Template == template)) continue;
                    var factors = latency == null ? null : Slice(copy, layer.Nodes, ShapeInference.Infer(copy, new ShapeInferenceOptions { InputShapes = inputShapes }));
                    measured.Add((new RankCandidate(layer.Method, energy, expected.Compare(copy, settings).MinCosine, before - after, null, template), factors));
                }
            }
            var offer = offers.First(o => o.Node == node);
            double? own = null;
            var notFaster = 0;
            var candidates = measured.Select(m => m.Candidate).ToList();
            if (latency != null && measured.Count > 0)
            {
                var times = latency.Time([Slice(model, [node], shapes), .. measured.Select(m => m.Factors!)]);
                own = times[0];
                candidates = [.. measured.Select((m, i) => m.Candidate with { LatencyMs = times[i + 1] })];
                notFaster = candidates.RemoveAll(c => !Faster(c.LatencyMs!.Value, own.Value));
            }
            layers.Add(new RankLayer(node, offer.OpType, offer.Macs, own, candidates, notFaster));
        }
        // The base a latency target is a share of: timed before and after the layers (the lower), so a burst of load during
        // one measurement does not make every candidate look like a smaller share of the model.
        double? modelMs = latency == null ? null : Math.Min(modelBefore!.Value, latency.Time([WithStaticInputs(model, inputShapes)])[0]);
        return new RankTable(objective, samples.Count, nodes.Sum(n => offers.First(o => o.Node == n).Macs), modelMs, latency?.Label, layers, Energies.Count,
            clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Per layer, the candidate that together with the others saves at least <paramref name="saving"/> of the objective's base
    /// (the factorizable layers' MACs, or the model's latency) with the least predicted loss; fewer than asked when the table runs
    /// out. Returns the chosen candidates (layers left alone are absent) and the saving predicted, as a share of that base.
    /// </summary>
    /// <exception cref="ArgumentException">The saving is not in (0, 1), or a latency table has no model latency.</exception>
    public static (IReadOnlyDictionary<string, RankCandidate> Chosen, double PredictedSaving) Choose(RankTable table, double saving)
    {
        long Saved(RankLayer layer, RankCandidate c) => table.Objective == RankObjective.Macs
            ? c.MacsSaved
            : (long)Math.Round((layer.LatencyMs!.Value - c.LatencyMs!.Value) * 1e6);
        long total = table.Objective == RankObjective.Macs
            ? table.Macs
            : (long)Math.Round((table.ModelLatencyMs ?? throw new ArgumentException("the table has no model latency: measure it with a latency probe")) * 1e6);
        var fronts = table.Layers.ToDictionary(l => l.Node, l => Front(l.Candidates.Where(c => Saved(l, c) > 0).Select(c => (c, Saved(l, c)))), StringComparer.Ordinal);
        // Ratio carries the candidate's index in the layer's front, so the choice maps back to the candidate.
        var sensitivity = new SensitivityTable(PruneMethod.Channels, table.Samples, total, [],
            [.. table.Layers.Select(l => new LayerSensitivity(l.Node, l.OpType, [.. fronts[l.Node].Select((p, i) => new SensitivityPoint(i, p.Candidate.Cosine, p.Saved))]))],
            table.Seconds);
        var (picked, predicted) = PruningSensitivity.Choose(sensitivity, saving);
        return (picked.ToDictionary(p => p.Key, p => fronts[p.Key][(int)p.Value].Candidate, StringComparer.Ordinal), predicted);
    }

    /// <summary>One pass per chosen layer, at its candidate's method and energy (with the template's other options, refit as asked).</summary>
    public static IReadOnlyList<IPass> Passes(IReadOnlyDictionary<string, RankCandidate> chosen, PassCatalog catalog) =>
        [.. chosen.Select(p => With(catalog, p.Value.Template, o => o with { Energy = p.Value.Energy, RankRatio = null, IncludeNodes = [p.Key] }))];

    /// <summary>
    /// Without a target: runs <paramref name="factorizers"/> on a copy of <paramref name="model"/>, times each factorized layer alone
    /// against its factors, and returns the passes with the layers whose factors are not faster excluded, and every timing.
    /// </summary>
    public static (IReadOnlyList<IPass> Passes, IReadOnlyList<LayerTiming> Timings) DropSlower(Model model, IReadOnlyList<IPass> factorizers,
        IReadOnlyDictionary<string, long[]> inputShapes, ILatencyProbe latency, PassCatalog catalog)
    {
        var copy = ModelReader.Copy(model);
        var shapes = ShapeInference.Infer(model, new ShapeInferenceOptions { InputShapes = inputShapes });
        var done = new List<(FactorizedLayer Layer, IPass Pass)>();
        foreach (var f in factorizers)
        {
            var pass = With(catalog, f, o => o with { Refit = false, InputShapes = o.InputShapes.Count > 0 ? o.InputShapes : inputShapes });
            pass.Run(copy, PassContext.Default);
            done.AddRange(((pass as IFactorizationPass)?.LastResult?.Layers ?? []).Select(l => (l, f)));
        }
        var factoredShapes = ShapeInference.Infer(copy, new ShapeInferenceOptions { InputShapes = inputShapes });
        var timings = new List<LayerTiming>();
        foreach (var (layer, _) in done)
        {
            var times = latency.Time([Slice(model, [layer.Node], shapes), Slice(copy, layer.Nodes, factoredShapes)]);
            timings.Add(new LayerTiming(layer.Node, layer.OpType, layer.Method, times[0], times[1], Faster(times[1], times[0])));
        }
        var slower = timings.Where(t => !t.Kept).Select(t => t.Node).ToHashSet(StringComparer.Ordinal);
        var passes = factorizers.Select(f => slower.Count == 0 ? f : With(catalog, f, o => o with { ExcludeNodes = [.. o.ExcludeNodes, .. slower] })).ToList();
        return (passes, timings);
    }

    /// <summary>A copy of <paramref name="model"/> whose graph inputs have the given static shapes (for timing it with random inputs).</summary>
    public static Model WithStaticInputs(Model model, IReadOnlyDictionary<string, long[]> inputShapes)
    {
        var copy = ModelReader.Copy(model);
        foreach (var input in copy.Graph.Inputs.Where(i => !i.IsInitializer))
        {
            if (inputShapes.TryGetValue(input.Name, out var dims) && input.TensorType is { } t) input.Type = TensorType.Of(t.ElementType, dims);
        }
        return copy;
    }

    /// <summary>The slice of <paramref name="model"/> holding the nodes of these layer names (<see cref="LayerNames.Of"/>: node name, or first output for unnamed nodes).</summary>
    private static Model Slice(Model model, IReadOnlyCollection<string> names, ShapeInferenceResult shapes)
    {
        var set = names.ToHashSet(StringComparer.Ordinal);
        return ModelSlice.Extract(model, model.Graph.Nodes.Where(n => set.Contains(LayerNames.Of(n))), shapes);
    }

    private static bool Faster(double candidateMs, double layerMs) => candidateMs < layerMs * (1 - MinLatencyGain);

    /// <summary>
    /// The candidates <see cref="PruningSensitivity.Choose"/> walks for one layer, ordered by saving: the lower convex hull of
    /// (saving, loss) from the origin (nothing factorized). Points above it are dominated or only reachable through a step whose
    /// loss per unit saved is worse than a later one, which leads the greedy walk astray: with energy 0.3 offered besides 0.5–0.95,
    /// the plain Pareto front made det at a 30 % latency saving predict a loss of 0.146 instead of 0.047.
    /// </summary>
    private static List<(RankCandidate Candidate, long Saved)> Front(IEnumerable<(RankCandidate Candidate, long Saved)> points)
    {
        static double Loss((RankCandidate Candidate, long Saved) p) => Math.Max(0, 1 - p.Candidate.Cosine);
        var hull = new List<(RankCandidate Candidate, long Saved)>();
        foreach (var p in points.OrderBy(p => p.Saved).ThenBy(Loss))
        {
            if (hull.Count > 0 && hull[^1].Saved == p.Saved) continue;
            while (hull.Count > 0)
            {
                var (beforeSaved, beforeLoss) = hull.Count > 1 ? (hull[^2].Saved, Loss(hull[^2])) : (0L, 0.0);
                var last = hull[^1];
                // Drop the last point when it lies on or above the line from the one before it to p (or p costs no more loss).
                var slopeLast = (Loss(last) - beforeLoss) / (last.Saved - beforeSaved);
                var slopeP = (Loss(p) - Loss(last)) / (p.Saved - last.Saved);
                if (Loss(p) <= Loss(last) || slopeP <= slopeLast) hull.RemoveAt(hull.Count - 1);
                else break;
            }
            hull.Add(p);
        }
        return hull;
    }

    private static IPass With(PassCatalog catalog, IPass template, Func<FactorizeOptions, FactorizeOptions> change) =>
        catalog.Create(template.Id, change((FactorizeOptions)template.Options));
}
