using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Quantization;

/// <summary>The include/exclude lists of the quantization passes: by node name and by op type.</summary>
/// <param name="IncludeOpTypes">When non-empty, only these op types are considered.</param>
/// <param name="ExcludeOpTypes">Op types never quantized.</param>
/// <param name="IncludeNodes">When non-empty, only nodes with these names are considered.</param>
/// <param name="ExcludeNodes">Node names never quantized.</param>
internal sealed record NodeFilter(
    IReadOnlyCollection<string> IncludeOpTypes,
    IReadOnlyCollection<string> ExcludeOpTypes,
    IReadOnlyCollection<string> IncludeNodes,
    IReadOnlyCollection<string> ExcludeNodes)
{
    /// <summary>Why <paramref name="node"/> is filtered out (null when it may be quantized).</summary>
    public string? Reason(Node node)
    {
        if (ExcludeNodes.Contains(node.Name)) return "excluded by name (ExcludeNodes)";
        if (ExcludeOpTypes.Contains(node.OpType)) return $"{node.OpType} is excluded (ExcludeOpTypes)";
        if (IncludeNodes.Count > 0 && !IncludeNodes.Contains(node.Name)) return "not in IncludeNodes";
        if (IncludeOpTypes.Count > 0 && !IncludeOpTypes.Contains(node.OpType)) return $"{node.OpType} is not in IncludeOpTypes";
        return null;
    }

    /// <summary>Problems with the lists: blank entries, and names both included and excluded.</summary>
    public static IEnumerable<string> Validate(IReadOnlyCollection<string> includeOpTypes, IReadOnlyCollection<string> excludeOpTypes,
        IReadOnlyCollection<string> includeNodes, IReadOnlyCollection<string> excludeNodes)
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
}
