using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Cleanup;

/// <summary>
/// Helpers for removing a node by pointing the uses of its output at another value (a bypass), the way
/// <see cref="Graph.ReplaceNode"/> does it: a graph output keeps its name, either because the replacement
/// takes the name over or because an Identity carries the replacement out under the old name.
/// </summary>
internal static class Bypass
{
    /// <summary>
    /// Why bypassing the producer of <paramref name="output"/> with <paramref name="replacement"/> would need an
    /// Identity carrier to keep a graph output's name; null when it would not (the output is no graph output, or
    /// the replacement can take its name over). Mirrors the rename rule of <see cref="Graph.ReplaceNode"/>.
    /// </summary>
    public static string? CarrierReason(Value output, Value replacement)
    {
        if (!output.IsGraphOutput) return null;
        var graph = output.Graph;
        var ownSlots = graph.Outputs.Count(o => ReferenceEquals(o, output));
        var where = graph.ParentNode == null ? "graph output" : "subgraph output";
        if (ownSlots == 0) return $"'{output.Name}' is an output of a nested subgraph";
        if (ownSlots != CountOutputSlots(output)) return $"'{output.Name}' is also an output of a nested subgraph";
        if (!ReferenceEquals(replacement.Graph, graph)) return $"{where} '{output.Name}' would carry '{replacement.Name}' from an enclosing graph";
        if (replacement.IsGraphInput) return $"carries {(graph.ParentNode == null ? "graph" : "subgraph")} input '{replacement.Name}' to {where} '{output.Name}'";
        if (replacement.IsInitializer) return $"carries initializer '{replacement.Name}' to {where} '{output.Name}'";
        if (replacement.IsGraphOutput) return $"'{replacement.Name}' is itself an output; {where} '{output.Name}' needs its own name";
        if (replacement.Producer == null) return $"'{replacement.Name}' has no producer to take over {where} '{output.Name}'";
        return null;
    }

    /// <summary>Removes <paramref name="node"/> (its outputs unused), then the initializers it read that nothing else uses.</summary>
    public static void RemoveWithUnusedConstants(GraphEditor edit, Node node)
    {
        var inputs = DistinctInputs(node);
        edit.Remove(node);
        foreach (var v in inputs) edit.RemoveIfUnused(v);
    }

    /// <summary>
    /// Replaces <paramref name="node"/> by <paramref name="replacement"/> (<see cref="GraphEditor.Replace"/>: graph output names kept),
    /// then removes the initializers it read that nothing else uses.
    /// </summary>
    public static void ReplaceWithUnusedConstants(GraphEditor edit, Node node, Value replacement)
    {
        var inputs = DistinctInputs(node);
        edit.Replace(node, replacement);
        foreach (var v in inputs) edit.RemoveIfUnused(v);
    }

    private static List<Value> DistinctInputs(Node node) => [.. node.Inputs.OfType<Value>().Distinct()];

    /// <summary>Why <paramref name="intermediate"/> (the output of the first node of a pair) cannot be folded away; null when it can.</summary>
    public static string? IntermediateReason(Value intermediate, Node consumer)
    {
        if (!ReferenceEquals(intermediate.Graph, consumer.Graph)) return $"'{intermediate.Name}' comes from an enclosing graph";
        if (intermediate.IsGraphOutput) return $"'{intermediate.Name}' is also a graph output";
        if (intermediate.Uses.Count != 1) return $"'{intermediate.Name}' has {intermediate.Uses.Count} uses";
        return null;
    }

    private static int CountOutputSlots(Value value) =>
        value.Graph.SelfAndDescendants().Sum(g => g.Outputs.Count(o => ReferenceEquals(o, value)));
}
