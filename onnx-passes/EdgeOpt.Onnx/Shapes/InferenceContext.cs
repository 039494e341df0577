using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Onnx.Shapes;

/// <summary>The state of one inference run: known types, tracked small integer tensors, and undecided nodes.</summary>
internal sealed class InferenceContext(Model model)
{
    /// <summary>The largest integer tensor whose values are tracked (shape arithmetic only needs a few).</summary>
    private const int MaxTrackedElements = 64;

    public Model Model { get; } = model;
    public Dictionary<Value, TensorType> Types { get; } = [];
    public List<Node> Unresolved { get; } = [];

    /// <summary>Values of small integer tensors, flat in row-major order, each a number or a symbol.</summary>
    private readonly Dictionary<Value, Dim[]> _ints = [];

    public long Opset(string domain = "") => Model.OpsetVersion(domain) ?? 1;

    public void InferGraph(Graph graph)
    {
        foreach (var v in graph.Inputs) SeedDeclared(v);
        foreach (var v in graph.Initializers) SeedInitializer(v);
        foreach (var v in graph.SparseInitializers) SeedSparseInitializer(v);
        foreach (var node in graph.Nodes)
        {
            foreach (var sub in node.Subgraphs) InferGraph(sub);
            Infer(node);
        }
    }

    private void SeedDeclared(Value v)
    {
        if (Types.ContainsKey(v)) return;
        if (v.Initializer is { } init) SeedInitializer(v);
        else if (v.TensorType is { } t) Types[v] = t;
    }

    private void SeedInitializer(Value v)
    {
        if (v.Initializer is not { } init || Types.ContainsKey(v)) return;
        Types[v] = TensorType.Of(init.DataType, init.DimsArray());
        TrackConstant(v, init);
    }

    private void SeedSparseInitializer(Value v)
    {
        if (v.SparseInitializer is { } sparse && !Types.ContainsKey(v)) Types[v] = TensorType.Of(sparse.Values.DataType, [.. sparse.Dims]);
    }

    private void TrackConstant(Value v, Tensor t)
    {
        if (t.ElementCount <= MaxTrackedElements && t.DataType is TensorDataType.Int64 or TensorDataType.Int32)
        {
            _ints[v] = [.. t.ToInt64s().Select(Dim.Of)];
        }
    }

    private void Infer(Node node)
    {
        if (node.IsConstantNode && node.Outputs.Count == 1 && node.Outputs[0] is { } cOut)
        {
            if (ConstantNodes.ValueOf(node) is { } tensor)
            {
                Set(cOut, TensorType.Of(tensor.DataType, tensor.DimsArray()));
                TrackConstant(cOut, tensor);
            }
            return;
        }
        var resolved = node.IsOnnxDomain && ShapeRules.TryInfer(node, this);
        foreach (var output in node.Outputs)
        {
            if (output == null || Types.ContainsKey(output)) continue;
            if (output.TensorType is { } declared) Types[output] = declared;
            else resolved = false;
        }
        if (!resolved || node.Outputs.Any(o => o != null && (Types[o].Shape is not { } shape || shape.Any(d => d is { IsKnown: false, Param: null }))))
        {
            Unresolved.Add(node);
        }
    }

    public TensorType? TypeOf(Value? v) => v != null && Types.TryGetValue(v, out var t) ? t : null;

    public IReadOnlyList<Dim>? ShapeOf(Value? v) => TypeOf(v)?.Shape;

    public int? RankOf(Value? v) => TypeOf(v)?.Rank;

    public long[]? StaticShapeOf(Value? v) => TypeOf(v)?.StaticShape;

    public TensorDataType ElemOf(Value? v) => TypeOf(v)?.ElementType ?? TensorDataType.Undefined;

    /// <summary>Tracked integer values of <paramref name="v"/> (a shape tensor), or null.</summary>
    public Dim[]? IntsOf(Value? v) => v != null && _ints.TryGetValue(v, out var d) ? d : null;

    /// <summary>The values of <paramref name="v"/> when every one is a number.</summary>
    public long[]? KnownInts(Value? v) =>
        IntsOf(v) is { } d && d.All(x => x.IsKnown) ? [.. d.Select(x => x.Value!.Value)] : null;

    /// <summary>The float values of a constant input (Resize scales).</summary>
    public float[]? ConstFloats(Value? v) =>
        ConstantOrDefault(v) is { } t && t.DataType is TensorDataType.Float or TensorDataType.Double or TensorDataType.Float16 ? t.ToSingles() : null;

    /// <summary>A constant, or the initializer default of an overridable input (what the runtime uses unless fed).</summary>
    public static Tensor? ConstantOrDefault(Value? v) => v?.Constant ?? v?.Initializer;

    /// <summary>Records the output type, merged with what the model declares for it (numbers win over symbols and unknowns).</summary>
    public void Set(Value? output, TensorDataType elem, IReadOnlyList<Dim>? shape)
    {
        if (output == null) return;
        if (elem == TensorDataType.Undefined && output.TensorType is { } d0) elem = d0.ElementType;
        if (elem == TensorDataType.Undefined) return;
        var declared = output.TensorType?.Shape;
        if (shape == null) shape = declared;
        else if (declared != null && declared.Count == shape.Count)
        {
            shape = [.. shape.Select((dim, i) => dim.IsKnown ? dim : declared[i].IsKnown || dim.Param == null ? declared[i] : dim)];
        }
        Types[output] = new TensorType(elem, shape);
    }

    public void Set(Value? output, TensorType type) => Set(output, type.ElementType, type.Shape);

    public void SetInts(Value? output, Dim[] values)
    {
        if (output != null && values.Length <= MaxTrackedElements) _ints[output] = values;
    }

    /// <summary>The declared or inferred type of a subgraph output, for If/Loop/Scan.</summary>
    public TensorType? SubgraphOutput(Graph g, int index) => index < g.Outputs.Count ? TypeOf(g.Outputs[index]) : null;
}
