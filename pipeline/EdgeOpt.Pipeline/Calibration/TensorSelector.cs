using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;

namespace EdgeOpt.Pipeline.Calibration;

/// <summary>A tensor calibration can observe: a floating-point activation of the main graph, with its element type.</summary>
public readonly record struct ObservableTensor(Value Value, TensorDataType ElementType)
{
    public string Name => Value.Name;
}

/// <summary>
/// Chooses which tensors calibration observes, among the main graph's floating-point activations: graph inputs without
/// an initializer and outputs of nodes that do not compute from constants alone (weights and shape arithmetic are not
/// activations). Element types come from the model's declarations and static shape inference.
/// </summary>
public sealed class TensorSelector
{
    private readonly Func<IReadOnlyList<ObservableTensor>, Model, IReadOnlyList<ObservableTensor>> _choose;

    private TensorSelector(string description, Func<IReadOnlyList<ObservableTensor>, Model, IReadOnlyList<ObservableTensor>> choose)
    {
        Description = description;
        _choose = choose;
    }

    /// <summary>What the selector takes, for reports.</summary>
    public string Description { get; }

    /// <summary>Graph inputs and every floating-point activation (the default: a superset of what any quantizer needs).</summary>
    public static TensorSelector Activations { get; } = new("graph inputs and every float activation", (candidates, _) => candidates);

    /// <summary>The op types <see cref="QuantizableNodeIo"/> uses by default: those ONNX Runtime's static quantizer handles on CPU.</summary>
    public static IReadOnlyList<string> DefaultQuantizableOps { get; } =
    [
        OpTypes.Conv, OpTypes.ConvTranspose, OpTypes.MatMul, OpTypes.Gemm, OpTypes.Add, OpTypes.Mul, OpTypes.Relu, OpTypes.Clip,
        OpTypes.LeakyRelu, OpTypes.Sigmoid, OpTypes.HardSigmoid, OpTypes.MaxPool, OpTypes.AveragePool, OpTypes.GlobalAveragePool,
        OpTypes.Concat, OpTypes.Resize, OpTypes.Split, OpTypes.Transpose, OpTypes.Reshape, OpTypes.Squeeze, OpTypes.Unsqueeze,
        OpTypes.Softmax, OpTypes.Gather, OpTypes.Pad, OpTypes.InstanceNormalization, OpTypes.LayerNormalization,
    ];

    /// <summary>Float inputs and outputs of nodes whose (ONNX-domain) op type is one of <paramref name="opTypes"/> (default <see cref="DefaultQuantizableOps"/>).</summary>
    public static TensorSelector QuantizableNodeIo(IEnumerable<string>? opTypes = null)
    {
        var ops = (opTypes ?? DefaultQuantizableOps).ToHashSet(StringComparer.Ordinal);
        return new TensorSelector($"float inputs and outputs of {string.Join(", ", ops.Order(StringComparer.Ordinal))}", (candidates, model) =>
        {
            var touched = model.Graph.Nodes
                .Where(n => n.IsOnnxDomain && ops.Contains(n.OpType))
                .SelectMany(n => n.Inputs.Concat(n.Outputs))
                .OfType<Value>()
                .ToHashSet();
            return [.. candidates.Where(c => touched.Contains(c.Value))];
        });
    }

    /// <summary>
    /// The named tensors, in the given order (e.g. <c>QuantizeStaticPass.CalibrationTargets</c>, so only what the pass reads
    /// is observed). A name that is not a float activation of the main graph is an error saying what it is, or, with
    /// <paramref name="requireAll"/> false, is left out.
    /// </summary>
    public static TensorSelector Named(IEnumerable<string> names, bool requireAll = true)
    {
        ArgumentNullException.ThrowIfNull(names);
        var wanted = names.Distinct(StringComparer.Ordinal).ToList();
        return new TensorSelector($"{wanted.Count} named tensors", (candidates, model) =>
        {
            var byName = candidates.ToDictionary(c => c.Name, StringComparer.Ordinal);
            var missing = wanted.FirstOrDefault(n => !byName.ContainsKey(n));
            if (requireAll && missing != null) throw new ArgumentException(WhyNotObservable(model, missing));
            return [.. wanted.Where(byName.ContainsKey).Select(n => byName[n])];
        });
    }

    /// <summary>The activations <paramref name="predicate"/> accepts.</summary>
    public static TensorSelector Where(string description, Func<ObservableTensor, bool> predicate) =>
        new(description, (candidates, _) => [.. candidates.Where(predicate)]);

    /// <summary>The tensors to observe in <paramref name="model"/>: graph inputs first, then node outputs in node order.</summary>
    /// <exception cref="ArgumentException">A named tensor is not an observable activation.</exception>
    public IReadOnlyList<ObservableTensor> Select(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return _choose(Candidates(model), model);
    }

    /// <summary>Every floating-point activation of the main graph (graph inputs first, then node outputs in node order).</summary>
    public static IReadOnlyList<ObservableTensor> Candidates(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var inferred = ShapeInference.Infer(model);
        var constant = ConstantDerived(graph);
        var result = new List<ObservableTensor>();
        foreach (var input in graph.Inputs.Where(i => !i.IsInitializer))
        {
            if (FloatType(input, inferred) is { } t) result.Add(new ObservableTensor(input, t));
        }
        foreach (var node in graph.Nodes)
        {
            if (constant.Contains(node)) continue;
            foreach (var output in node.Outputs)
            {
                if (output != null && FloatType(output, inferred) is { } t) result.Add(new ObservableTensor(output, t));
            }
        }
        return result;
    }

    public override string ToString() => Description;

    private static TensorDataType? FloatType(Value value, ShapeInferenceResult inferred)
    {
        var type = value.TensorType?.ElementType is { } declared && declared != TensorDataType.Undefined ? declared : inferred.TypeOf(value)?.ElementType;
        return type is TensorDataType.Float or TensorDataType.Float16 or TensorDataType.BFloat16 or TensorDataType.Double ? type : null;
    }

    /// <summary>Nodes computing from constants alone (Constant nodes, weight transforms, shape arithmetic on constants).</summary>
    private static HashSet<Node> ConstantDerived(Graph graph)
    {
        var result = new HashSet<Node>();
        foreach (var node in graph.Nodes)
        {
            if (node.IsConstantNode)
            {
                result.Add(node);
                continue;
            }
            var inputs = node.Inputs.Where(i => i != null).Concat(node.ImplicitInputs()).ToList();
            if (inputs.Count > 0 && inputs.All(i => i!.IsConstant || i.Producer is { } p && result.Contains(p))) result.Add(node);
        }
        return result;
    }

    private static string WhyNotObservable(Model model, string name)
    {
        var value = model.Graph.FindLocalValue(name);
        if (value == null)
        {
            var inSubgraph = model.Graph.AllNodes().SelectMany(n => n.Outputs).Any(o => o?.Name == name);
            return inSubgraph
                ? $"tensor '{name}' lives inside a subgraph (If/Loop/Scan body); calibration observes main-graph tensors only"
                : $"the model has no tensor named '{name}'; `edgeopt inspect` lists its tensors";
        }
        if (value.IsConstant) return $"tensor '{name}' is a constant (weight), not an activation; weights need no calibration";
        var type = value.TensorType?.ElementType ?? ShapeInference.Infer(model).TypeOf(value)?.ElementType;
        return type is null or TensorDataType.Undefined
            ? $"tensor '{name}' has no known element type; add a value_info for it or run shape inference first"
            : $"tensor '{name}' is {TensorDataTypes.OnnxName(type.Value)}, not floating point, or computes from constants only; only float activations are calibrated";
    }
}
