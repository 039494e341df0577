using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// The first and last layers of a graph: layers that read a graph input, or feed a graph output, with no other layer
/// in between (element-wise ops, pools, reshapes and the like do not count). A network with several heads has several
/// last layers; values from an enclosing graph count as inputs of a subgraph.
/// </summary>
internal static class LayerBoundary
{
    /// <summary>The members of <paramref name="layers"/> (nodes of one graph) that are first or last layers.</summary>
    public static HashSet<Node> FirstAndLast(Graph graph, IReadOnlyCollection<Node> layers)
    {
        var isLayer = layers.ToHashSet();
        var result = new HashSet<Node>();
        foreach (var layer in layers)
        {
            if (ReadsInput(graph, layer, isLayer) || FeedsOutput(layer, isLayer)) result.Add(layer);
        }
        return result;
    }

    /// <summary>Whether the layer's data input (input 0) reaches a graph input going backwards without crossing another layer.</summary>
    private static bool ReadsInput(Graph graph, Node layer, HashSet<Node> isLayer)
    {
        var seen = new HashSet<Value>();
        var work = new Stack<Value>();
        if (layer.Input(0) is { } x) work.Push(x);
        while (work.TryPop(out var v))
        {
            if (!seen.Add(v)) continue;
            if (v.Graph != graph || (v.IsGraphInput && v.Initializer == null)) return true;
            if (v.Producer is not { } p || isLayer.Contains(p) || p.IsConstantNode) continue;
            foreach (var input in p.Inputs)
            {
                if (input != null) work.Push(input);
            }
        }
        return false;
    }

    /// <summary>Whether the layer's outputs reach a graph output going forwards without crossing another layer.</summary>
    private static bool FeedsOutput(Node layer, HashSet<Node> isLayer)
    {
        var seen = new HashSet<Value>();
        var work = new Stack<Value>(layer.Outputs.OfType<Value>());
        while (work.TryPop(out var v))
        {
            if (!seen.Add(v)) continue;
            if (v.IsGraphOutput) return true;
            foreach (var use in v.Uses)
            {
                if (isLayer.Contains(use.Node)) continue;
                foreach (var o in use.Node.Outputs)
                {
                    if (o != null) work.Push(o);
                }
            }
        }
        return false;
    }
}
