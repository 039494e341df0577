using EdgeOpt.Onnx.Shapes;

namespace EdgeOpt.Onnx.Ir;

/// <summary>
/// A piece of a model as a model of its own (like <c>onnx.utils.extract_model</c>, by node names rather than tensor names): the
/// chosen nodes, the constants they read as initializers, every other value they read as a graph input of the static type shape
/// inference found, and the values they produce that no chosen node reads as graph outputs. Used to time a layer, or the nodes
/// that replace it, alone in ONNX Runtime.
/// </summary>
public static class ModelSlice
{
    /// <summary>
    /// The model holding just <paramref name="chosen"/>, nodes of <paramref name="model"/>'s main graph (copied in graph order), with <paramref name="model"/>'s IR version and opset imports. <paramref name="shapes"/> must be
    /// <paramref name="model"/>'s inference result (with concrete input shapes): it types the slice's inputs and outputs.
    /// </summary>
    /// <exception cref="ArgumentException">No nodes, a node not of the main graph, a node holding a subgraph, or a value the slice
    /// reads without a static shape (pass concrete input shapes to shape inference).</exception>
    public static Model Extract(Model model, IEnumerable<Node> chosen, ShapeInferenceResult shapes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(chosen);
        var wanted = chosen.ToHashSet();
        if (wanted.FirstOrDefault(n => n.Graph != model.Graph) is { } stranger) throw new ArgumentException($"node '{stranger.Name}' ({stranger.OpType}) is not in the model's main graph");
        var nodes = model.Graph.Nodes.Where(wanted.Contains).ToList();
        if (nodes.Count == 0) throw new ArgumentException("a slice needs at least one node");
        if (nodes.FirstOrDefault(n => n.Subgraphs.Any()) is { } nested) throw new ArgumentException($"node '{nested.Name}' ({nested.OpType}) holds a subgraph; slices of control flow are not supported");

        var graph = new Graph($"{model.Graph.Name}_slice");
        var mapped = new Dictionary<Value, Value>();
        var inside = new HashSet<Node>(nodes);
        Value Map(Value v)
        {
            if (mapped.TryGetValue(v, out var m)) return m;
            if (v.Constant is { } constant) m = graph.AddInitializer(constant.WithName(v.Name));
            else m = graph.AddInput(v.Name, StaticType(v, shapes));
            return mapped[v] = m;
        }
        foreach (var node in nodes)
        {
            var inputs = node.Inputs.Select(v => v == null ? null : Map(v)).ToList();
            var copy = graph.AddNode(node.OpType, inputs, node.Outputs.Select(o => o?.Name ?? ""), node.Name.Length > 0 ? node.Name : null, node.Domain, node.Attributes);
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                if (node.Outputs[i] is { } output) mapped[output] = copy.Output(i);
            }
        }
        foreach (var node in nodes)
        {
            foreach (var output in node.Outputs.OfType<Value>())
            {
                // The slice's outputs: what no node of the slice reads (the layer's result, or an unused side output).
                if (output.Name.Length == 0 || output.Uses.Any(u => inside.Contains(u.Node))) continue;
                var value = mapped[output];
                value.Type = StaticType(output, shapes);
                graph.AddOutput(value);
            }
        }
        var slice = new Model(graph) { IrVersion = model.IrVersion, ProducerName = "edgeopt-slice" };
        slice.Opsets.AddRange(model.Opsets);
        return slice;
    }

    private static TensorType StaticType(Value value, ShapeInferenceResult shapes)
    {
        var type = shapes.TypeOf(value) ?? value.TensorType;
        if (type?.StaticShape is not { } dims)
        {
            throw new ArgumentException($"value '{value.Name}' has no static shape ({type?.ToString() ?? "unknown"}): infer shapes with concrete input shapes (--input-shape)");
        }
        return TensorType.Of(type.ElementType, dims);
    }
}
