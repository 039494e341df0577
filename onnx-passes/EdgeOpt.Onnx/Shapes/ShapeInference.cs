using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Onnx.Shapes;

/// <summary>Options of <see cref="ShapeInference.Infer"/>.</summary>
public sealed record ShapeInferenceOptions
{
    /// <summary>Concrete shapes for graph inputs by name (e.g. <c>x → [1,3,224,224]</c>), overriding dynamic dimensions.</summary>
    public IReadOnlyDictionary<string, long[]> InputShapes { get; init; } = new Dictionary<string, long[]>();

    /// <summary>Write the inferred types into the model (value types, plus value_info annotations for intermediates).</summary>
    public bool Annotate { get; init; }
}

/// <summary>The types <see cref="ShapeInference.Infer"/> found, and the nodes it could not decide.</summary>
public sealed class ShapeInferenceResult
{
    private readonly Dictionary<Value, TensorType> _types;

    internal ShapeInferenceResult(Dictionary<Value, TensorType> types, List<Node> unresolved)
    {
        _types = types;
        Unresolved = unresolved;
    }

    /// <summary>Every value with a known element type, keyed by value (subgraph values included).</summary>
    public IReadOnlyDictionary<Value, TensorType> Types => _types;

    /// <summary>Nodes with at least one output whose rank or element type stayed unknown.</summary>
    public IReadOnlyList<Node> Unresolved { get; }

    /// <summary>The inferred type of <paramref name="value"/>, or null when unknown.</summary>
    public TensorType? TypeOf(Value? value) => value != null && _types.TryGetValue(value, out var t) ? t : null;

    /// <summary>The shape of <paramref name="value"/> when every dimension is a number.</summary>
    public long[]? StaticShapeOf(Value? value) => TypeOf(value)?.StaticShape;
}

/// <summary>
/// Static shape and type inference for the common ONNX operators, subgraphs included. Dimensions flow as numbers or
/// symbols (<c>batch</c> stays <c>batch</c> through element-wise ops); small integer tensors built from shapes
/// (<c>Shape → Gather → Concat → Reshape</c>, as PyTorch exports write them) are tracked so such Reshapes resolve.
/// Where a rule cannot decide, the output keeps what the model declares, and the node is listed as unresolved;
/// the runtime's shape probe covers the rest.
/// </summary>
public static class ShapeInference
{
    /// <summary>Infers the types of every value of <paramref name="model"/>; the model is changed only with <see cref="ShapeInferenceOptions.Annotate"/>.</summary>
    /// <exception cref="ArgumentException">An input shape names an unknown input or contradicts its declared rank or dimensions.</exception>
    public static ShapeInferenceResult Infer(Model model, ShapeInferenceOptions? options = null)
    {
        options ??= new ShapeInferenceOptions();
        var context = new InferenceContext(model);
        SeedInputs(model.Graph, options.InputShapes, context);
        context.InferGraph(model.Graph);
        var result = new ShapeInferenceResult(context.Types, context.Unresolved);
        if (options.Annotate) Apply(model.Graph, result);
        return result;
    }

    private static void SeedInputs(Graph graph, IReadOnlyDictionary<string, long[]> shapes, InferenceContext context)
    {
        foreach (var name in shapes.Keys)
        {
            var input = graph.Inputs.FirstOrDefault(i => i.Name == name && i.Initializer == null)
                ?? throw new ArgumentException($"input shape for '{name}': the model has no such input; its inputs are " +
                    string.Join(", ", graph.Inputs.Where(i => i.Initializer == null).Select(i => $"'{i.Name}'")));
            var dims = shapes[name];
            if (input.TensorType is not { } declared)
            {
                throw new ArgumentException($"input shape for '{name}': the input is not a tensor ({input.Type})");
            }
            if (declared.Shape != null && declared.Shape.Count != dims.Length)
            {
                throw new ArgumentException($"input shape for '{name}' has {dims.Length} dimensions but the model declares {declared.Shape.Count} ({declared})");
            }
            for (var i = 0; declared.Shape != null && i < dims.Length; i++)
            {
                if (declared.Shape[i].Value is { } fixedDim && fixedDim != dims[i])
                {
                    throw new ArgumentException($"input shape for '{name}': dimension {i} is fixed at {fixedDim} in the model, not {dims[i]}");
                }
            }
            context.Types[input] = TensorType.Of(declared.ElementType, dims);
        }
    }

    private static void Apply(Graph graph, ShapeInferenceResult result)
    {
        foreach (var g in graph.SelfAndDescendants())
        {
            foreach (var node in g.Nodes)
            {
                foreach (var output in node.Outputs)
                {
                    if (output == null || result.TypeOf(output) is not { } type) continue;
                    output.Type = type;
                    if (!output.IsGraphOutput) g.Annotate(output);
                }
            }
        }
    }
}
