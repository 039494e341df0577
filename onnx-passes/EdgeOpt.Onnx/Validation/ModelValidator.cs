using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Onnx.Validation;

/// <summary>
/// Structural checks on the IR, run after loading and after every pass: each input defined in scope,
/// each value produced once, graph outputs defined, no cycles, consistent use lists, known tensor types.
/// </summary>
public static class ModelValidator
{
    /// <summary>Every problem found (empty when the model is sound).</summary>
    public static IReadOnlyList<ModelProblem> Validate(Model model)
    {
        var problems = new List<ModelProblem>();
        if (model.Opsets.Count == 0) problems.Add(new("model", "no opset_import: the model does not say which operator set it uses"));
        foreach (var g in model.Graph.SelfAndDescendants()) ValidateGraph(g, problems);
        return problems;
    }

    /// <summary>Throws <see cref="OnnxModelException"/> listing every problem, if any.</summary>
    public static void ThrowIfInvalid(Model model, string source)
    {
        var problems = Validate(model);
        if (problems.Count > 0) throw new OnnxModelException(source, problems);
    }

    internal static string Where(Graph g) => g.ParentNode == null ? $"graph '{g.Name}'" : $"graph '{g.Name}' (in {g.ParentNode})";

    internal static string Where(Node n) => $"{Where(n.Graph)} / node {n}";

    private static void ValidateGraph(Graph g, List<ModelProblem> problems)
    {
        var produced = new Dictionary<Value, Node>();
        foreach (var node in g.Nodes)
        {
            for (var i = 0; i < node.Inputs.Count; i++)
            {
                var v = node.Inputs[i];
                if (v == null) continue;
                if (!IsVisible(v, g)) problems.Add(new(Where(node), $"input {i} '{v.Name}' is not defined in this graph or an enclosing one"));
                else if (!IsDefined(v)) problems.Add(new(Where(node), $"input {i} '{v.Name}' is not produced by any node, initializer or graph input"));
                if (!v.Uses.Contains(new Use(node, i))) problems.Add(new(Where(node), $"input {i} '{v.Name}' is missing from its use list (IR bookkeeping)"));
            }
            foreach (var o in node.Outputs)
            {
                if (o == null) continue;
                if (!ReferenceEquals(o.Producer, node)) problems.Add(new(Where(node), $"output '{o.Name}' names another producer"));
                if (!produced.TryAdd(o, node)) problems.Add(new(Where(node), $"output '{o.Name}' is listed twice"));
                if (o.IsInitializer || o.IsGraphInput) problems.Add(new(Where(node), $"output '{o.Name}' is also a graph input or initializer"));
            }
        }
        foreach (var o in g.Outputs)
        {
            if (!IsVisible(o, g) || !IsDefined(o)) problems.Add(new(Where(g), $"graph output '{o.Name}' is not produced by any node, initializer or input"));
        }
        foreach (var v in g.Initializers)
        {
            var t = v.Initializer!;
            if (!TensorDataTypes.IsKnown((int)t.DataType)) problems.Add(new(Where(g), $"initializer '{v.Name}' has unknown data type {(int)t.DataType}"));
        }
        g.TopologicalOrder(out var cyclic);
        if (cyclic.Count > 0)
        {
            problems.Add(new(Where(g), $"the graph has a cycle through {string.Join(", ", cyclic.Take(8))}{(cyclic.Count > 8 ? ", …" : "")}"));
        }
    }

    private static bool IsVisible(Value v, Graph from)
    {
        for (var g = from; g != null; g = g.ParentGraph)
        {
            if (ReferenceEquals(v.Graph, g)) return true;
        }
        return false;
    }

    private static bool IsDefined(Value v) => v.Producer != null || v.IsInitializer || v.IsGraphInput;
}
