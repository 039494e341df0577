using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// How the pruning passes name a layer in options and reports: the node name, or for an unnamed node (common in older
/// exports) the name of its first output, which is unique in the model.
/// </summary>
public static class LayerNames
{
    /// <summary>The key of <paramref name="node"/> in include/exclude lists, per-layer ratios and reports.</summary>
    public static string Of(Node node) =>
        node.Name.Length > 0 ? node.Name : node.Outputs.Count > 0 && node.Outputs[0] is { } o ? o.Name : node.OpType;

    /// <summary>A report label: <c>key (OpType)</c>.</summary>
    internal static string Label(Node node) => $"{Of(node)} ({node.OpType})";
}
