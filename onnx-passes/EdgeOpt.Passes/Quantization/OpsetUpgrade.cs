using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Quantization;

/// <summary>
/// Raises a model's ONNX opset (to 13, where QuantizeLinear/DequantizeLinear take per-channel parameters) only where
/// every node provably keeps its meaning: operators unchanged between the two versions are kept; the few whose attributes
/// became inputs are rewritten (Clip min/max, Slice starts/ends/axes, Squeeze/Unsqueeze/ReduceSum axes, Split sizes,
/// Pad pads/value, TopK k, Dropout ratio, Upsample → Resize with asymmetric coordinates); Softmax-family nodes are kept
/// when they normalize over the last axis (the one case where opset 13 changed nothing). Anything else blocks the
/// upgrade with the node and reason, and the model is left untouched. The quantization passes call it only when their
/// options ask for it (<c>UpgradeOpset</c>).
/// </summary>
public static class OpsetUpgrade
{
    /// <summary>Operators whose meaning is the same in every opset from 7 to 13 for the attributes they may carry.</summary>
    private static readonly HashSet<string> Unchanged = new(StringComparer.Ordinal)
    {
        "Abs", "Acos", "Acosh", "Add", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh", "AveragePool",
        "Ceil", "Concat", "Constant", "ConstantOfShape", "Conv", "ConvInteger", "ConvTranspose", "Cos", "Cosh", "DepthToSpace",
        "DequantizeLinear", "Div", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand", "Flatten", "Floor", "Gather", "Gemm",
        "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "Greater", "HardSigmoid", "Identity", "InstanceNormalization",
        "IsNaN", "LeakyRelu", "Less", "Log", "LpNormalization", "LRN", "MatMul", "MatMulInteger", "Max", "MaxPool", "Mean",
        "Min", "Mod", "Mul", "Neg", "NonZero", "Not", "OneHot", "Or", "Pow", "PRelu", "QLinearConv", "QLinearMatMul",
        "QuantizeLinear", "Range", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
        "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare", "Relu", "Reshape", "Round", "Selu", "Shape", "Sigmoid",
        "Sign", "Sin", "Sinh", "Size", "Softplus", "Softsign", "SpaceToDepth", "Sqrt", "Sub", "Sum", "Tan", "Tanh",
        "ThresholdedRelu", "Tile", "Transpose", "Where", "Xor",
    };

    private static readonly HashSet<string> SoftmaxFamily = new(StringComparer.Ordinal) { OpTypes.Softmax, "LogSoftmax", "Hardmax" };

    /// <summary>Why <paramref name="model"/> cannot be raised to <paramref name="target"/> (null when it can, or already is).</summary>
    public static string? Blocker(Model model, long target) => Plan(model, target, out _);

    /// <summary>
    /// Raises the model's ONNX opset to <paramref name="target"/> when <see cref="Blocker"/> finds nothing (IR version raised
    /// to 7 if lower). Returns what was rewritten; throws when blocked.
    /// </summary>
    public static IReadOnlyList<string> Apply(Model model, long target)
    {
        if (Plan(model, target, out var rewrites) is { } blocker) throw new InvalidOperationException($"cannot raise the opset to {target}: {blocker}");
        var done = new List<string>();
        foreach (var (node, rewrite) in rewrites) done.Add($"{node}: {rewrite(node)}");
        var at = model.Opsets.FindIndex(o => o.Domain is "" or "ai.onnx");
        if (at >= 0) model.Opsets[at] = model.Opsets[at] with { Version = Math.Max(model.Opsets[at].Version, target) };
        else model.Opsets.Add(new OpsetId("", target));
        if (model.IrVersion < 7) model.IrVersion = 7;
        return done;
    }

    /// <summary>Raises the model to opset 13 for the quantization passes, reporting the change or why the opset was kept.</summary>
    internal static void RaiseForQuantization(Model model, Core.PassReport report)
    {
        var from = model.OpsetVersion("") ?? 1;
        if (from >= QuantOps.PerChannelOpset) return;
        if (Blocker(model, QuantOps.PerChannelOpset) is { } blocker)
        {
            report.Skip("model", $"opset {from} kept: {blocker}");
            return;
        }
        var rewrites = Apply(model, QuantOps.PerChannelOpset);
        var detail = rewrites.Count == 0 ? "" : $" ({rewrites.Count} nodes rewritten: {string.Join("; ", rewrites.Take(3))}{(rewrites.Count > 3 ? "; …" : "")})";
        report.Change("model", $"opset {from} → {QuantOps.PerChannelOpset}{detail}");
    }

    private static string? Plan(Model model, long target, out List<(Node Node, Func<Node, string> Rewrite)> rewrites)
    {
        rewrites = [];
        var from = model.OpsetVersion("") ?? 1;
        if (from >= target) return null;
        if (from < 7) return $"opset {from} uses legacy broadcasting and consumed_inputs; convert the model to opset 7+ first";
        ShapeInferenceResult? shapes = null;
        foreach (var node in model.Graph.Nodes)
        {
            if (!node.IsOnnxDomain) continue;
            if (node.Subgraphs.Any()) return $"{node} has subgraphs, which are not upgraded";
            if (SoftmaxFamily.Contains(node.OpType)) shapes ??= ShapeInference.Infer(model);
            var (reason, rewrite) = Rule(node, from, target, shapes);
            if (reason != null) return $"{node}: {reason}";
            if (rewrite != null) rewrites.Add((node, rewrite));
        }
        return null;
    }

    private static (string? Reason, Func<Node, string>? Rewrite) Rule(Node n, long from, long target, ShapeInferenceResult? shapes)
    {
        var g = n.Graph;
        switch (n.OpType)
        {
            case OpTypes.BatchNormalization:
                return n.Attributes.All(a => a.Name is AttrNames.Epsilon or "momentum") && n.Outputs.Skip(1).All(o => o is not { IsUsed: true })
                    ? (null, null) : ("BatchNormalization with training outputs or legacy attributes", null);
            case OpTypes.Cast:
                return n.GetAttribute("to") is { Kind: AttributeKind.Int } ? (null, null) : ("Cast with a string 'to'", null);
            case OpTypes.Clip when from < 11:
                return (null, node => AttributesToInputs(node, g, [("min", a => FloatScalar(g, node, "min", a)), ("max", a => FloatScalar(g, node, "max", a))]));
            case OpTypes.Slice when from < 10:
                return (null, node => AttributesToInputs(node, g, [("starts", a => Int64s(g, node, "starts", a)), ("ends", a => Int64s(g, node, "ends", a)), ("axes", a => Int64s(g, node, "axes", a))]));
            case OpTypes.Squeeze or OpTypes.Unsqueeze or "ReduceSum" when from < 13 && target >= 13:
                return (null, node => AttributesToInputs(node, g, [(AttrNames.Axes, a => Int64s(g, node, "axes", a))], firstInput: 1));
            case OpTypes.Split when from < 13 && target >= 13:
                return (null, node => AttributesToInputs(node, g, [("split", a => Int64s(g, node, "split", a))], firstInput: 1));
            case OpTypes.Pad when from < 11:
                return (null, node => AttributesToInputs(node, g, [(AttrNames.Pads, a => Int64s(g, node, "pads", a)), ("value", a => FloatScalar(g, node, "constant_value", a))]));
            case "TopK" when from < 10:
                return (null, node => AttributesToInputs(node, g, [("k", a => g.AddConstant($"{Base(node)}/k", Tensor.Create("", [1], new[] { a.AsInt() })))]));
            case OpTypes.Dropout when from < 12:
                return n.HasAttribute("ratio") ? (null, node => { node.RemoveAttribute("ratio"); return "ratio attribute dropped (inference: identity)"; }) : (null, null);
            case OpTypes.Upsample:
                return UpsampleRule(n);
            case OpTypes.Resize when from < 11:
                return ("Resize-10 coordinate semantics are not converted", null);
            case var op when SoftmaxFamily.Contains(op) && from < 13 && target >= 13:
                return LastAxis(n, shapes) ? (null, null) : ($"{op} over axis {n.GetInt(AttrNames.Axis, 1)} flattens the trailing dimensions before opset 13 (rank unknown or axis not last)", null);
            case var op when Unchanged.Contains(op) || SoftmaxFamily.Contains(op):
                return n.HasAttribute("broadcast") || n.HasAttribute("consumed_inputs") ? ("legacy broadcast attributes", null) : (null, null);
            case OpTypes.Clip or OpTypes.Slice or OpTypes.Squeeze or OpTypes.Unsqueeze or "ReduceSum" or OpTypes.Split or OpTypes.Pad or "TopK" or OpTypes.Dropout or OpTypes.Resize:
                return (null, null);
            default:
                return ($"no upgrade rule for {n.OpType}", null);
        }
    }

    private static (string?, Func<Node, string>?) UpsampleRule(Node n)
    {
        var mode = n.GetString(QuantAttrs.Mode, "nearest");
        if (mode is not ("nearest" or "linear" or "bilinear")) return ($"Upsample mode '{mode}'", null);
        return (null, node =>
        {
            var g = node.Graph;
            Value scales;
            if (node.GetFloats("scales") is { } attr) scales = g.AddConstant($"{Base(node)}/scales", Tensor.Create("", [attr.Count], attr.ToArray()));
            else scales = node.Input(1) ?? throw new InvalidOperationException($"{node} has no scales");
            var resize = g.AddNode(OpTypes.Resize, [node.Input(0), null, scales], [node.Output().Name + "/resized"], name: Base(node) + "/resize",
                attributes:
                [
                    Attribute.String(QuantAttrs.Mode, mode == "nearest" ? "nearest" : "linear"),
                    Attribute.String("coordinate_transformation_mode", "asymmetric"),
                    Attribute.String("nearest_mode", "floor"),
                ], before: node);
            g.ReplaceNode(node, [resize.Output()]);
            return $"Upsample ({mode}) → Resize with asymmetric coordinates";
        });
    }

    private static bool LastAxis(Node n, ShapeInferenceResult? shapes)
    {
        var rank = n.Input(0)?.TensorType?.Rank ?? shapes?.TypeOf(n.Input(0))?.Rank ?? n.Output().TensorType?.Rank;
        if (rank == null) return false;
        var axis = n.GetInt(AttrNames.Axis, 1);
        if (axis < 0) axis += rank.Value;
        return axis == rank.Value - 1;
    }

    /// <summary>Moves attributes into trailing inputs starting at <paramref name="firstInput"/> (absent attributes become omitted inputs).</summary>
    private static string AttributesToInputs(Node n, Graph g, (string Attr, Func<Attribute, Value> Make)[] slots, int firstInput = 1)
    {
        var moved = new List<string>();
        for (var i = 0; i < slots.Length; i++)
        {
            var (name, make) = slots[i];
            if (n.GetAttribute(name) is not { } a) continue;
            n.SetInput(firstInput + i, make(a));
            n.RemoveAttribute(name);
            moved.Add(name);
        }
        n.TrimInputs();
        return moved.Count == 0 ? "no attributes to move" : $"attributes {string.Join(", ", moved)} → inputs";
    }

    private static Value Int64s(Graph g, Node n, string purpose, Attribute a)
    {
        var v = a.AsInts().ToArray();
        return g.AddConstant($"{Base(n)}/{purpose}", Tensor.Create("", [v.Length], v));
    }

    private static string Base(Node n) => n.Name.Length > 0 ? n.Name : n.OpType;

    private static Value FloatScalar(Graph g, Node n, string purpose, Attribute a) => g.AddConstant($"{Base(n)}/{purpose}", Tensor.Scalar("", a.AsFloat()));
}
