using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Pruning;

/// <summary>The include/exclude lists of the pruning passes, by op type and by layer name (<see cref="LayerNames.Of"/>).</summary>
internal sealed record NodeSelection(
    IReadOnlyCollection<string> IncludeOpTypes,
    IReadOnlyCollection<string> ExcludeOpTypes,
    IReadOnlyCollection<string> IncludeNodes,
    IReadOnlyCollection<string> ExcludeNodes)
{
    /// <summary>Why <paramref name="node"/> is filtered out; null when it is selected.</summary>
    public string? Reason(Node node) =>
        ExcludedReason(node)
        ?? (IncludeNodes.Count > 0 && !IncludeNodes.Contains(LayerNames.Of(node)) ? "not in IncludeNodes"
        : IncludeOpTypes.Count > 0 && !IncludeOpTypes.Contains(node.OpType) ? $"{node.OpType} is not in IncludeOpTypes"
        : null);

    /// <summary>Why <paramref name="node"/> is explicitly excluded (the exclude lists only); null when it is not.</summary>
    public string? ExcludedReason(Node node) =>
        ExcludeNodes.Contains(LayerNames.Of(node)) ? "excluded by name (ExcludeNodes)"
        : ExcludeOpTypes.Contains(node.OpType) ? $"{node.OpType} is excluded (ExcludeOpTypes)"
        : null;

    /// <summary>Problems with the lists: null or blank entries, names both included and excluded.</summary>
    public static IEnumerable<string> Validate(IReadOnlyCollection<string>? includeOpTypes, IReadOnlyCollection<string>? excludeOpTypes,
        IReadOnlyCollection<string>? includeNodes, IReadOnlyCollection<string>? excludeNodes)
    {
        foreach (var (name, list) in new[] { ("IncludeOpTypes", includeOpTypes), ("ExcludeOpTypes", excludeOpTypes), ("IncludeNodes", includeNodes), ("ExcludeNodes", excludeNodes) })
        {
            if (list == null) yield return $"{name} is null (use an empty list)";
            else if (list.Any(string.IsNullOrWhiteSpace)) yield return $"{name} has a blank entry";
        }
        if (includeOpTypes == null || excludeOpTypes == null || includeNodes == null || excludeNodes == null) yield break;
        foreach (var both in includeOpTypes.Intersect(excludeOpTypes, StringComparer.Ordinal)) yield return $"op type '{both}' is both included and excluded";
        foreach (var both in includeNodes.Intersect(excludeNodes, StringComparer.Ordinal)) yield return $"node '{both}' is both included and excluded";
    }

    /// <summary>Problems with a per-node ratio table: blank names, ratios outside [0, 1].</summary>
    public static IEnumerable<string> ValidateRatios(string option, IReadOnlyDictionary<string, double>? ratios)
    {
        if (ratios == null)
        {
            yield return $"{option} is null (use an empty dictionary)";
            yield break;
        }
        foreach (var (node, ratio) in ratios.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (string.IsNullOrWhiteSpace(node)) yield return $"{option} has a blank node name";
            if (!(ratio is >= 0 and <= 1)) yield return $"{option}['{node}'] must be in [0, 1], not {ratio}";
        }
    }
}
