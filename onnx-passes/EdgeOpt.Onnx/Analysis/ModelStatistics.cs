using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;

namespace EdgeOpt.Onnx.Analysis;

/// <summary>A graph input or output as the statistics show it.</summary>
public sealed record TensorSignature(string Name, string ElemType, IReadOnlyList<string>? Shape)
{
    public override string ToString() => $"{Name}: {ElemType}" + (Shape == null ? "[?]" : $"[{string.Join(",", Shape)}]");
}

/// <summary>A constant tensor, for the largest-tensors list.</summary>
public sealed record TensorSummary(string Name, string ElemType, IReadOnlyList<long> Dims, long Bytes);

/// <summary>Cost of one counted node (Conv, Gemm, MatMul, recurrent): MACs (null when unknown) and weight elements.</summary>
public sealed record LayerCost(string Node, string OpType, long? Macs, long Parameters);

/// <summary>MACs of one op type.</summary>
public sealed record OpCost(string OpType, int Nodes, long Macs);

/// <summary>
/// What <c>edgeopt inspect</c> shows: format, interface, op histogram (subgraphs included), parameters (each constant
/// tensor counted once), size on disk incl. external data, and MACs from <see cref="CostModel"/> over inferred shapes.
/// </summary>
public sealed record ModelStatistics
{
    public required long IrVersion { get; init; }
    public required IReadOnlyList<OpsetId> Opsets { get; init; }
    public required string Producer { get; init; }
    public required IReadOnlyList<TensorSignature> Inputs { get; init; }
    public required IReadOnlyList<TensorSignature> Outputs { get; init; }

    /// <summary>Node count per op type (domain-qualified outside the ONNX domain), largest first.</summary>
    public required IReadOnlyList<KeyValuePair<string, int>> Ops { get; init; }
    public required int Nodes { get; init; }
    public required int Subgraphs { get; init; }

    /// <summary>Elements of all constant tensors (initializers and Constant nodes, subgraphs included).</summary>
    public required long Parameters { get; init; }
    public required long ParameterBytes { get; init; }

    /// <summary>The .onnx file plus its external data files; null for a model not read from a file.</summary>
    public required long? FileBytes { get; init; }

    /// <summary>
    /// Total MACs of one inference (of an If, the costlier branch; Loop/Scan bodies once), or null when a counted op has
    /// unknown shapes (see <see cref="UnknownCostNodes"/>).
    /// </summary>
    public required long? Macs { get; init; }
    public required IReadOnlyList<OpCost> MacsByOp { get; init; }

    /// <summary>Per counted node, in graph order (of an If, the costlier branch).</summary>
    public required IReadOnlyList<LayerCost> Layers { get; init; }
    public required IReadOnlyList<string> UnknownCostNodes { get; init; }
    public required IReadOnlyList<TensorSummary> LargestTensors { get; init; }

    /// <summary>Computes the statistics; <paramref name="shapes"/> defaults to <see cref="ShapeInference.Infer"/> without overrides.</summary>
    public static ModelStatistics Compute(Model model, ShapeInferenceResult? shapes = null, int largest = 10)
    {
        shapes ??= ShapeInference.Infer(model);
        var nodes = model.Graph.AllNodes().ToList();
        var constants = ConstantTensors(model).ToList();
        var costs = CostedNodes(model.Graph, shapes).ToList();
        var unknown = costs.Where(c => c.Macs == null).Select(c => c.Node.ToString()).ToList();
        return new ModelStatistics
        {
            IrVersion = model.IrVersion,
            Opsets = model.Opsets.ToList(),
            Producer = $"{model.ProducerName} {model.ProducerVersion}".Trim(),
            Inputs = [.. model.Graph.Inputs.Where(i => i.Initializer == null).Select(v => Signature(v, shapes))],
            Outputs = [.. model.Graph.Outputs.Select(v => Signature(v, shapes))],
            Ops = [.. nodes.GroupBy(n => n.IsOnnxDomain ? n.OpType : $"{n.Domain}.{n.OpType}")
                .Select(g => KeyValuePair.Create(g.Key, g.Count()))
                .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)],
            Nodes = nodes.Count,
            Subgraphs = model.Graph.SelfAndDescendants().Count() - 1,
            Parameters = constants.Sum(t => t.ElementCount),
            ParameterBytes = constants.Sum(t => t.ByteCount),
            FileBytes = model.SourcePath is { } path && File.Exists(path) ? ModelFiles.TotalBytes(model, path) : null,
            Macs = unknown.Count > 0 ? null : costs.Sum(c => c.Macs!.Value),
            MacsByOp = [.. costs.GroupBy(c => c.Node.OpType)
                .Select(g => new OpCost(g.Key, g.Count(), g.Sum(c => c.Macs ?? 0)))
                .OrderByDescending(c => c.Macs).ThenBy(c => c.OpType, StringComparer.Ordinal)],
            UnknownCostNodes = unknown,
            Layers = [.. costs.Select(c => new LayerCost(c.Node.Name, c.Node.OpType, c.Macs,
                c.Node.Inputs.Skip(1).Sum(v => InitializerOrConstant(v)?.ElementCount ?? 0)))],
            LargestTensors = [.. constants.OrderByDescending(t => t.ByteCount).ThenBy(t => t.Name, StringComparer.Ordinal).Take(largest)
                .Select(t => new TensorSummary(t.Name, TensorDataTypes.OnnxName(t.DataType), t.Dims, t.ByteCount))],
        };
    }

    /// <summary>
    /// The counted nodes one inference runs: every node of the graph, and of each If only the costlier branch
    /// (one runs, which one depends on data). Loop and Scan bodies count once (one iteration).
    /// </summary>
    private static IEnumerable<(Node Node, long? Macs)> CostedNodes(Graph graph, ShapeInferenceResult shapes)
    {
        foreach (var node in graph.Nodes)
        {
            if (CostModel.Counts(node)) yield return (node, CostModel.Macs(node, shapes));
            var branches = node.Subgraphs.Select(g => CostedNodes(g, shapes).ToList()).ToList();
            if (branches.Count == 0) continue;
            var chosen = node.Is(OpTypes.If)
                ? branches.OrderByDescending(b => b.Sum(c => c.Macs ?? 0)).First()
                : branches.SelectMany(b => b).ToList();
            foreach (var c in chosen) yield return c;
        }
    }

    /// <summary>Initializers and Constant-node values of every graph, each once.</summary>
    private static IEnumerable<Tensor> ConstantTensors(Model model)
    {
        foreach (var g in model.Graph.SelfAndDescendants())
        {
            foreach (var v in g.Initializers)
            {
                if (v.Initializer != null) yield return v.Initializer;
            }
            foreach (var n in g.Nodes)
            {
                if (n.IsConstantNode && ConstantNodes.ValueOf(n) is { } t) yield return t;
            }
        }
    }

    private static Tensor? InitializerOrConstant(Value? v) => v?.Initializer ?? v?.Constant;

    private static TensorSignature Signature(Value v, ShapeInferenceResult shapes)
    {
        var t = shapes.TypeOf(v) ?? v.TensorType;
        return t == null
            ? new TensorSignature(v.Name, v.Type?.ToString() ?? "?", null)
            : new TensorSignature(v.Name, TensorDataTypes.OnnxName(t.ElementType), t.Shape?.Select(d => d.ToString()).ToList());
    }
}
