using System.Diagnostics;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Fidelity;

namespace EdgeOpt.Pipeline.Optimization;

/// <summary>
/// Rank selection for a MACs target: each layer the factorization passes would factorize, alone at several energies, run in
/// ONNX Runtime on the samples (cosine against the unfactorized model, MACs saved), then per-layer energies chosen with
/// <see cref="PruningSensitivity.Choose"/> (least predicted loss per MAC saved) and one pass per chosen layer at its energy.
/// The saving is a share of the factorizable layers' MACs (e.g. target 0.5: those layers keep at most half their MACs).
/// </summary>
public static class FactorizationTargets
{
    /// <summary>The energies measured per layer.</summary>
    public static IReadOnlyList<double> Energies { get; } = [0.5, 0.7, 0.8, 0.9, 0.95];

    /// <summary>The table (one row per factorizable layer; <see cref="SensitivityTable.Total"/> = their MACs) and, per layer, the pass template that factorizes it.</summary>
    public static (SensitivityTable Table, IReadOnlyDictionary<string, IPass> Templates) Measure(Model model, IReadOnlyList<IPass> factorizers,
        IReadOnlyList<Sample> samples, RuntimeSettings settings, PassCatalog catalog, IProgress<SensitivityProgress>? progress = null)
    {
        if (samples.Count == 0) throw new ArgumentException("a MACs target needs samples to measure fidelity on: pass --calibration-data DIR");
        var clock = Stopwatch.StartNew();
        var expected = ReferenceOutputs.Run(model, samples, settings);

        var candidates = new List<(string Node, string OpType, long Macs, IPass Template)>();
        foreach (var template in factorizers)
        {
            var probe = With(catalog, template, o => o with { Energy = Energies[0], RankRatio = null, Refit = false });
            probe.Run(ModelReader.Copy(model), PassContext.Default);
            foreach (var layer in Result(probe)?.Layers ?? [])
            {
                if (layer.MacsBefore is { } macs && candidates.All(c => c.Node != layer.Node)) candidates.Add((layer.Node, layer.OpType, macs, template));
            }
        }
        if (candidates.Any(c => c.Macs <= 0) || candidates.Count == 0)
        {
            throw new ArgumentException(candidates.Count == 0
                ? "no layer of this model can be factorized to save MACs: nothing to choose ranks for"
                : "MACs of some layers are unknown: pass --input-shape for the model's dynamic inputs");
        }

        var layers = new List<LayerSensitivity>();
        var done = 0;
        foreach (var (node, op, _, template) in candidates)
        {
            var points = new List<SensitivityPoint>();
            foreach (var energy in Energies)
            {
                progress?.Report(new SensitivityProgress(done++, candidates.Count * Energies.Count, node));
                var copy = ModelReader.Copy(model);
                var pass = With(catalog, template, o => o with { Energy = energy, RankRatio = null, Refit = false, IncludeNodes = [node] });
                pass.Run(copy, PassContext.Default);
                if (Result(pass)?.Layers.FirstOrDefault(l => l.Node == node) is not { MacsBefore: { } before, MacsAfter: { } after }) continue;
                points.Add(new SensitivityPoint(energy, expected.Compare(copy, settings).MinCosine, before - after));
            }
            // Lower energy saves more: order points by saving, as Choose walks them.
            layers.Add(new LayerSensitivity(node, op, [.. points.OrderBy(p => p.Saved)]));
        }
        var table = new SensitivityTable(PruneMethod.Channels, samples.Count, candidates.Sum(c => c.Macs), Energies, layers, clock.Elapsed.TotalSeconds);
        return (table, candidates.ToDictionary(c => c.Node, c => c.Template, StringComparer.Ordinal));
    }

    /// <summary>One pass per chosen layer, at its energy (with the template's other options, refit as asked).</summary>
    public static IReadOnlyList<IPass> Passes(IReadOnlyDictionary<string, double> energies, IReadOnlyDictionary<string, IPass> templates, PassCatalog catalog) =>
        [.. energies.Select(p => With(catalog, templates[p.Key], o => o with { Energy = p.Value, RankRatio = null, IncludeNodes = [p.Key] }))];

    private static IPass With(PassCatalog catalog, IPass template, Func<FactorizeOptions, FactorizeOptions> change) =>
        catalog.Create(template.Id, change((FactorizeOptions)template.Options));

    private static FactorizationResult? Result(IPass pass) => pass switch
    {
        FactorizeSvdPass s => s.LastResult,
        FactorizeConvPass c => c.LastResult,
        _ => null,
    };
}
