using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;

namespace EdgeOpt.Pipeline.Fidelity;

/// <summary>Bounds a verification must meet; null means not checked.</summary>
public sealed record FidelityBounds(double? MinCosine = null, double? MinTop1 = null);

/// <summary>One output compared across all samples, against the reference model and, when stored, the data set's outputs.</summary>
public sealed record OutputVerdict(OutputMetrics VersusReference, OutputMetrics? VersusStored);

/// <summary>The result of <see cref="Verifier.Compare"/>: per output metrics, the worst figures, and the bound check.</summary>
public sealed record VerifyReport(int Samples, IReadOnlyList<OutputVerdict> Outputs, IReadOnlyList<string> Violations)
{
    public double MinCosine => Outputs.Min(o => o.VersusReference.Cosine);
    public double? MinTop1 => Outputs.Select(o => o.VersusReference.Top1Agreement).Where(t => t != null).Min();
    public double MaxAbsError => Outputs.Max(o => o.VersusReference.MaxAbsError);
    public bool Passed => Violations.Count == 0;
}

/// <summary>
/// Runs a reference and a candidate on the same samples and compares every output (numeric outputs converted to
/// float). The runs are given as functions, so the comparison does not depend on how the models execute.
/// </summary>
public static class Verifier
{
    public static VerifyReport Compare(
        IReadOnlyList<Sample> samples,
        Func<Sample, IReadOnlyDictionary<string, Tensor>> runReference,
        Func<Sample, IReadOnlyDictionary<string, Tensor>> runCandidate,
        FidelityBounds? bounds = null,
        double? threshold = null)
    {
        if (samples.Count == 0) throw new ArgumentException("no samples to verify with");
        var versusReference = new Dictionary<string, OutputComparison>(StringComparer.Ordinal);
        var versusStored = new Dictionary<string, OutputComparison>(StringComparer.Ordinal);
        foreach (var sample in samples)
        {
            var reference = runReference(sample);
            var candidate = runCandidate(sample);
            foreach (var (name, refTensor) in reference)
            {
                if (!candidate.TryGetValue(name, out var candTensor))
                {
                    throw new ArgumentException($"the candidate model has no output '{name}'; its outputs are {string.Join(", ", candidate.Keys.Select(k => $"'{k}'"))}");
                }
                if (!refTensor.Dims.SequenceEqual(candTensor.Dims))
                {
                    throw new ArgumentException($"output '{name}' is [{string.Join(",", refTensor.Dims)}] from the reference but [{string.Join(",", candTensor.Dims)}] from the candidate");
                }
                Get(versusReference, name, threshold).Add(refTensor.ToSingles(), candTensor.ToSingles(), refTensor.Dims);
                if (sample.ExpectedOutputs.TryGetValue(name, out var stored) && stored.ElementCount == candTensor.ElementCount)
                {
                    Get(versusStored, name, threshold).Add(stored.ToSingles(), candTensor.ToSingles(), stored.Dims);
                }
            }
        }
        var outputs = versusReference.Select(p => new OutputVerdict(p.Value.Result(), versusStored.GetValueOrDefault(p.Key)?.Result())).ToList();
        return new VerifyReport(samples.Count, outputs, Check(outputs, bounds ?? new FidelityBounds()));
    }

    private static OutputComparison Get(Dictionary<string, OutputComparison> map, string name, double? threshold)
    {
        if (!map.TryGetValue(name, out var c)) map[name] = c = new OutputComparison(name, threshold);
        return c;
    }

    private static List<string> Check(List<OutputVerdict> outputs, FidelityBounds bounds)
    {
        var violations = new List<string>();
        foreach (var o in outputs.Select(o => o.VersusReference))
        {
            if (bounds.MinCosine is { } c && !(o.Cosine >= c)) violations.Add($"output '{o.Output}': cosine {o.Cosine:F6} < {c}");
            if (bounds.MinTop1 is { } t && o.Top1Agreement is { } a && a < t) violations.Add($"output '{o.Output}': top-1 agreement {a:P2} < {t:P2}");
            if (o.NonFinite > 0) violations.Add($"output '{o.Output}': {o.NonFinite} NaN/infinite values where the reference is finite");
        }
        return violations;
    }
}
