using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Quantization;

/// <summary>What <see cref="QuantizeStaticPass"/> does with one node.</summary>
internal enum NodeRole
{
    /// <summary>Stays float (the decision's message says why).</summary>
    Float,

    /// <summary>Runs in int8: its activation inputs and (effective) output are quantized, its weights int8, its bias int32.</summary>
    Compute,

    /// <summary>Moves int8 data unchanged (Reshape, Transpose, MaxPool, Resize …): its output reuses its input's parameters.</summary>
    Passthrough,

    /// <summary>A Relu/Clip absorbed by the quantized output of its producer (the output's clamp is the activation).</summary>
    Folded,

    /// <summary>int8 weights behind DequantizeLinear, float compute (ops ONNX Runtime has no int8 kernel for, e.g. ConvTranspose).</summary>
    WeightOnly,
}

/// <summary>How a node takes part in quantization: its role, the reason or summary, and for Compute the tensors involved.</summary>
internal sealed class NodeDecision(Node node)
{
    public Node Node { get; } = node;
    public NodeRole Role { get; set; }
    public string Message { get; set; } = "";

    /// <summary>For Compute: the quantized output (the folded activation's output when one was absorbed).</summary>
    public Value? Output { get; set; }

    /// <summary>For Compute: the Relu/Clip absorbed into the output.</summary>
    public Node? Folded { get; set; }

    /// <summary>For Compute: the input positions that carry activations (the others are constants or not quantized).</summary>
    public List<int> ActivationInputs { get; } = [];

    /// <summary>For Compute/WeightOnly: the weight input position and per-channel axis (null: per tensor), when the node has a weight.</summary>
    public (int Index, int? Axis)? Weight { get; set; }

    /// <summary>For Compute: the bias input position, when the node has one (Conv B, Gemm C).</summary>
    public int? Bias { get; set; }

    /// <summary>For Compute: float constant operands quantized like activations (Add/Mul/Concat constants).</summary>
    public List<int> ConstantOperands { get; } = [];

    public bool IsQuantized => Role is NodeRole.Compute or NodeRole.Passthrough or NodeRole.Folded;
}

/// <summary>
/// The decisions of a static quantization, made without editing the graph: per node a role and reason, per activation tensor
/// its parameters. Rules that keep int8 from being slower than float:
/// <list type="bullet">
/// <item>Conv, Gemm and MatMul are quantized whenever their tensors have ranges: they carry the compute.</item>
/// <item>Cheap ops (Add, Mul, Concat, pools, Sigmoid, LeakyRelu) only when every activation input is already produced in int8,
/// so no Q is added in front of them; in QDQ form with int8 activations only those ONNX Runtime fuses for int8.</item>
/// <item>Passthrough ops (Reshape, Transpose, Flatten, Squeeze, Unsqueeze, MaxPool, Resize) reuse their input's parameters (no
/// range needed) and are kept in int8 only when their input is int8 and some consumer wants int8.</item>
/// <item>A Relu, or a Clip with min 0, that alone consumes a quantized output is folded: the output is quantized over the
/// activation's range with the zero point at the lowest code, so the quantizer's clamp is the activation (exact).</item>
/// <item>Softmax and LayerNormalization stay float (accuracy); nodes missing a calibrated tensor are skipped with the name.</item>
/// </list>
/// </summary>
internal sealed class StaticQuantPlan
{
    private static readonly HashSet<string> CheapOps = new(StringComparer.Ordinal)
    {
        OpTypes.Add, OpTypes.Mul, OpTypes.Concat, OpTypes.AveragePool, OpTypes.GlobalAveragePool, OpTypes.Sigmoid, OpTypes.LeakyRelu,
    };

    private static readonly HashSet<string> PassthroughOps = new(StringComparer.Ordinal)
    {
        OpTypes.Reshape, OpTypes.Transpose, OpTypes.Flatten, OpTypes.Squeeze, OpTypes.Unsqueeze, OpTypes.MaxPool, OpTypes.Resize,
    };

    /// <summary>Ops ONNX Runtime's CPU EP fuses from QDQ only for uint8 activations (measured on 1.30).</summary>
    private static readonly HashSet<string> QdqUInt8Only = new(StringComparer.Ordinal)
    {
        OpTypes.Add, OpTypes.Mul, OpTypes.Concat, OpTypes.AveragePool,
    };

    private readonly QuantizeStaticOptions _options;
    private readonly Func<string, TensorRange?> _ranges;
    private readonly long _opset;
    private readonly Dictionary<Node, NodeDecision> _byNode = [];

    private StaticQuantPlan(Graph graph, QuantizeStaticOptions options, Func<string, TensorRange?> ranges, long opset)
    {
        _options = options;
        _ranges = ranges;
        _opset = opset;
        ActivationCodes = QuantMath.Codes(options.ActivationType, symmetric: options.ActivationType == QuantType.S8);
        foreach (var node in graph.Nodes)
        {
            var d = new NodeDecision(node);
            Decisions.Add(d);
            _byNode[node] = d;
        }
    }

    /// <summary>Every main-graph node's decision, in graph order.</summary>
    public List<NodeDecision> Decisions { get; } = [];

    /// <summary>Parameters of every activation tensor that is quantized (keyed by the float value).</summary>
    public Dictionary<Value, QuantParams> Params { get; } = [];

    /// <summary>Tensors produced in int8 (by a Compute or Passthrough node), as opposed to float tensors quantized for a consumer.</summary>
    public HashSet<Value> Int8Produced { get; } = [];

    /// <summary>Tensor names whose ranges were asked for.</summary>
    public SortedSet<string> RequestedRanges { get; } = new(StringComparer.Ordinal);

    public QuantRange ActivationCodes { get; }

    public NodeDecision? DecisionOf(Node? node) => node != null && _byNode.TryGetValue(node, out var d) ? d : null;

    /// <summary>Decides every node of <paramref name="graph"/> (which must be topologically sorted).</summary>
    public static StaticQuantPlan Make(Graph graph, QuantizeStaticOptions options, Func<string, TensorRange?> ranges, long opset)
    {
        var plan = new StaticQuantPlan(graph, options, ranges, opset);
        plan.DecideForward();
        plan.DropUnwantedPassthroughs();
        return plan;
    }

    private void DecideForward()
    {
        var filter = _options.Filter;
        foreach (var d in Decisions)
        {
            if (d.Role == NodeRole.Folded) continue;
            var node = d.Node;
            if (!node.IsOnnxDomain)
            {
                Float(d, $"domain '{node.Domain}' ops are not quantized");
                continue;
            }
            if (filter.Reason(node) is { } filtered)
            {
                Float(d, filtered);
                continue;
            }
            var op = node.OpType;
            if (op is OpTypes.Conv or OpTypes.Gemm or OpTypes.MatMul) DecideCompute(d, anchor: true);
            else if (CheapOps.Contains(op)) DecideCheap(d);
            else if (PassthroughOps.Contains(op)) DecidePassthrough(d);
            else if (op == OpTypes.ConvTranspose) DecideWeightOnly(d);
            else if (op is OpTypes.Softmax or OpTypes.LayerNormalization) Float(d, $"{op} is left in float (int8 {op} costs accuracy)");
            else if (op is OpTypes.Relu or OpTypes.Clip) Float(d, "not folded: its input is not the sole output of a quantized op");
            else Float(d, $"no int8 kernel for {op} in ONNX Runtime's CPU EP");
        }
    }

    private void DecideCheap(NodeDecision d)
    {
        var op = d.Node.OpType;
        if (_options.Format == QuantFormat.Qdq && _options.ActivationType == QuantType.S8 && QdqUInt8Only.Contains(op))
        {
            Float(d, $"ONNX Runtime fuses QDQ {op} only for uint8 activations; use Format=QOperator or ActivationType=U8");
            return;
        }
        DecideCompute(d, anchor: false);
    }

    private void DecideCompute(NodeDecision d, bool anchor)
    {
        var node = d.Node;
        if (ComputeShapeProblem(d) is { } problem)
        {
            Float(d, problem);
            return;
        }
        var inputParams = new List<(Value Value, QuantParams Params, bool New)>();
        foreach (var i in d.ActivationInputs)
        {
            var v = node.Input(i)!;
            if (Params.TryGetValue(v, out var known))
            {
                inputParams.Add((v, known, false));
                continue;
            }
            if (!anchor)
            {
                Float(d, $"input '{v.Name}' comes from float {(v.Producer == null ? "graph input" : v.Producer.OpType)}; quantizing {node.OpType} alone would add Q/DQ overhead");
                return;
            }
            if (Range(v.Name) is not { } r)
            {
                Float(d, $"no calibration range for input '{v.Name}'");
                return;
            }
            inputParams.Add((v, Activation(r, nonNegativeFold: false), true));
        }

        var output = node.Output(0);
        var folded = FoldableActivation(node, output);
        var effective = folded?.Node.Output(0) ?? output;
        QuantParams outParams;
        if (Range(effective.Name) is { } range)
        {
            outParams = folded is { } f ? Activation(new TensorRange(0, MathF.Min(MathF.Max(range.Max, 0), f.Max)), nonNegativeFold: true) : Activation(range, false);
        }
        else if (node.OpType is OpTypes.AveragePool or OpTypes.GlobalAveragePool && folded == null && inputParams.Count == 1)
        {
            outParams = inputParams[0].Params;
        }
        else
        {
            Float(d, $"no calibration range for output '{effective.Name}'");
            return;
        }

        foreach (var (v, p, isNew) in inputParams)
        {
            if (isNew) Params[v] = p;
        }
        Params[effective] = outParams;
        Int8Produced.Add(effective);
        d.Role = NodeRole.Compute;
        d.Output = effective;
        var inputs = string.Join(", ", inputParams.Select(x => $"'{x.Value.Name}' ({x.Params})"));
        d.Message = $"int8 {node.OpType}: inputs {inputs}; output '{effective.Name}' ({outParams})";
        if (folded is { } fold)
        {
            d.Folded = fold.Node;
            var fd = _byNode[fold.Node];
            fd.Role = NodeRole.Folded;
            fd.Message = $"folded into the quantized output of {node} (zero point at the lowest code clamps like {fold.Node.OpType})";
            d.Message += $"; {fold.Node.OpType} '{fold.Node.Name}' folded";
        }
    }

    /// <summary>Fills the activation/weight/bias positions of a Compute candidate; returns why it cannot be quantized.</summary>
    private string? ComputeShapeProblem(NodeDecision d)
    {
        var node = d.Node;
        if (node.Outputs.Skip(1).Any(o => o is { IsUsed: true })) return "uses more than one output";
        if (node.Outputs.Count == 0) return "has no output";
        switch (node.OpType)
        {
            case OpTypes.Conv:
            {
                if (QuantEmit.WeightProblem(node.Input(ConvInput.W), "weight", 3) is { } w) return w;
                if (BiasProblem(node.Input(ConvInput.B), node.Input(ConvInput.W)!.Constant!.Dims[0]) is { } b) return b;
                d.ActivationInputs.Add(ConvInput.X);
                d.Weight = (ConvInput.W, _options.PerChannel ? 0 : null);
                if (node.Input(ConvInput.B) != null) d.Bias = ConvInput.B;
                return ActivationTypeProblem(d);
            }
            case OpTypes.Gemm:
            {
                if (QuantEmit.WeightProblem(node.Input(GemmInput.B), "weight", 2, 2) is { } w) return w;
                var transB = node.GetInt(AttrNames.TransB, 0) != 0;
                var wt = node.Input(GemmInput.B)!.Constant!;
                var n = transB ? wt.Dims[0] : wt.Dims[1];
                if (node.Input(GemmInput.C) is { } c && node.GetFloat(AttrNames.Beta, 1f) != 0f)
                {
                    if (BiasProblem(c, n, allowRowVector: true) is { } b) return b;
                    d.Bias = GemmInput.C;
                }
                d.ActivationInputs.Add(GemmInput.A);
                d.Weight = (GemmInput.B, _options.PerChannel ? (transB ? 0 : 1) : null);
                return ActivationTypeProblem(d);
            }
            case OpTypes.MatMul:
            {
                d.ActivationInputs.Add(MatMulInput.A);
                var b = node.Input(MatMulInput.B);
                if (b is { IsConstant: true })
                {
                    if (QuantEmit.WeightProblem(b, "weight", 2) is { } w) return w;
                    d.Weight = (MatMulInput.B, _options.PerChannel && b.Constant!.Rank == 2 ? 1 : null);
                }
                else
                {
                    d.ActivationInputs.Add(MatMulInput.B);
                }
                return ActivationTypeProblem(d);
            }
            case OpTypes.Add or OpTypes.Mul or OpTypes.Concat:
            {
                for (var i = 0; i < node.Inputs.Count; i++)
                {
                    var v = node.Inputs[i];
                    if (v == null) return $"input {i} is omitted";
                    if (v.Constant is { } t)
                    {
                        if (t.DataType != TensorDataType.Float) return $"constant '{v.Name}' is {TensorDataTypes.OnnxName(t.DataType)}";
                        d.ConstantOperands.Add(i);
                    }
                    else
                    {
                        d.ActivationInputs.Add(i);
                    }
                }
                return d.ActivationInputs.Count == 0 ? "every input is constant; fold it first" : ActivationTypeProblem(d);
            }
            default:
                d.ActivationInputs.Add(0);
                return ActivationTypeProblem(d);
        }
    }

    private string? ActivationTypeProblem(NodeDecision d)
    {
        foreach (var i in d.ActivationInputs)
        {
            var v = d.Node.Input(i)!;
            if (v.TensorType is { ElementType: not TensorDataType.Float } t) return $"input '{v.Name}' is {TensorDataTypes.OnnxName(t.ElementType)}, not float32";
        }
        return null;
    }

    private static string? BiasProblem(Value? bias, long channels, bool allowRowVector = false)
    {
        if (bias == null) return null;
        var t = bias.Constant;
        if (t == null) return $"bias '{bias.Name}' is not a constant";
        if (t.DataType != TensorDataType.Float) return $"bias '{bias.Name}' is {TensorDataTypes.OnnxName(t.DataType)}";
        var vector = t.Rank == 1 || (allowRowVector && t.Rank == 2 && t.Dims[0] == 1) || (allowRowVector && t.Rank == 0);
        if (!vector || (t.Rank > 0 && t.Dims[t.Rank - 1] != channels)) return $"bias '{bias.Name}' has shape [{string.Join(",", t.Dims)}], not [{channels}]";
        return null;
    }

    /// <summary>The Relu, or Clip with min 0, that alone consumes <paramref name="output"/> (and its upper clamp), or null.</summary>
    private (Node Node, float Max)? FoldableActivation(Node producer, Value output)
    {
        if (!_options.FoldActivations || output.IsGraphOutput || output.Uses.Count != 1) return null;
        var act = output.Uses[0].Node;
        if (!act.IsOnnxDomain || act.Graph != producer.Graph || _options.Filter.Reason(act) != null) return null;
        if (act.Outputs.Count != 1) return null;
        if (act.OpType == OpTypes.Relu) return (act, float.PositiveInfinity);
        if (act.OpType != OpTypes.Clip) return null;
        var (min, max) = ClipBounds(act);
        return min == 0f && max is > 0f ? (act, max.Value) : null;
    }

    /// <summary>A Clip's bounds from attributes (opset &lt; 11) or constant inputs; null where not constant.</summary>
    internal static (float? Min, float? Max) ClipBounds(Node clip)
    {
        if (clip.HasAttribute(AttrNames.Min) || clip.HasAttribute(AttrNames.Max))
        {
            return (clip.GetFloat(AttrNames.Min, float.MinValue), clip.GetFloat(AttrNames.Max, float.MaxValue));
        }
        static float? Bound(Value? v, float absent) => v == null ? absent : v.Constant is { ElementCount: 1, DataType: TensorDataType.Float } t ? t.ToSingles()[0] : null;
        return (Bound(clip.Input(ClipInput.Min), float.MinValue), Bound(clip.Input(ClipInput.Max), float.MaxValue));
    }

    private void DecidePassthrough(NodeDecision d)
    {
        var node = d.Node;
        var op = node.OpType;
        if (op == OpTypes.MaxPool && _opset < QuantOps.Int8MaxPoolOpset)
        {
            Float(d, $"int8 MaxPool needs opset {QuantOps.Int8MaxPoolOpset}; the model imports {_opset}");
            return;
        }
        if (op == OpTypes.Resize && _opset < 11)
        {
            Float(d, "Resize before opset 11 is not run in int8");
            return;
        }
        if (node.Outputs.Skip(1).Any(o => o is { IsUsed: true }))
        {
            Float(d, "uses more than one output");
            return;
        }
        var input = node.Input(0);
        if (input == null || !Int8Produced.Contains(input))
        {
            Float(d, $"input '{input?.Name}' is float; a passthrough is kept in int8 only behind a quantized op");
            return;
        }
        var output = node.Output(0);
        Params[output] = Params[input];
        Int8Produced.Add(output);
        d.Role = NodeRole.Passthrough;
        d.ActivationInputs.Add(0);
        d.Output = output;
        d.Message = $"int8 passthrough: '{output.Name}' reuses the parameters of '{input.Name}' ({Params[input]})";
    }

    private void DecideWeightOnly(NodeDecision d)
    {
        var node = d.Node;
        if (QuantEmit.WeightProblem(node.Input(ConvInput.W), "weight", 3) is { } w)
        {
            Float(d, w);
            return;
        }
        d.Role = NodeRole.WeightOnly;
        d.Weight = (ConvInput.W, _options.PerChannel && node.GetInt(AttrNames.Group, 1) == 1 ? 1 : null);
        d.Message = "weights int8 behind DequantizeLinear, compute float: ONNX Runtime's CPU EP has no int8 ConvTranspose";
    }

    /// <summary>Walks back from the outputs: a passthrough stays int8 only when a quantized node reads its output.</summary>
    private void DropUnwantedPassthroughs()
    {
        for (var k = Decisions.Count - 1; k >= 0; k--)
        {
            var d = Decisions[k];
            if (d.Role != NodeRole.Passthrough) continue;
            var output = d.Output!;
            var wanted = output.Uses.Any(u => DecisionOf(u.Node) is { } c && c.Role is NodeRole.Compute or NodeRole.Passthrough && c.Node.Input(u.InputIndex) == output
                && (c.Role == NodeRole.Passthrough ? u.InputIndex == 0 : c.ActivationInputs.Contains(u.InputIndex)));
            if (wanted) continue;
            Params.Remove(output);
            Int8Produced.Remove(output);
            d.Role = NodeRole.Float;
            d.Output = null;
            d.ActivationInputs.Clear();
            d.Message = "passthrough left in float: no quantized op reads its output";
        }
    }

    private TensorRange? Range(string name)
    {
        RequestedRanges.Add(name);
        return _ranges(name);
    }

    private QuantParams Activation(TensorRange range, bool nonNegativeFold)
    {
        if (nonNegativeFold)
        {
            // Zero point at the lowest code: the quantizer's clamp is the folded Relu/Clip (also for an all-zero range).
            var codes = QuantMath.Codes(_options.ActivationType, symmetric: false);
            return range.Max <= 0 ? new QuantParams(1f, codes.Min) : QuantMath.Compute(range, codes, symmetric: false);
        }
        return QuantMath.Compute(range, ActivationCodes, symmetric: _options.ActivationType == QuantType.S8);
    }

    private static void Float(NodeDecision d, string reason)
    {
        d.Role = NodeRole.Float;
        d.Message = reason;
    }
}
