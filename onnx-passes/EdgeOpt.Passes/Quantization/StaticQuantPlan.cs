using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;

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

    /// <summary>
    /// Mul/Div by a positive scalar constant, or Add/Sub of a scalar constant, on an int8 tensor: no op is emitted, the output
    /// is the input's codes read with a new scale (Mul/Div, exact) or zero point (Add/Sub, the constant rounded to a step).
    /// </summary>
    Rescale,
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

    public bool IsQuantized => Role is NodeRole.Compute or NodeRole.Passthrough or NodeRole.Folded or NodeRole.Rescale;
}

/// <summary>
/// The decisions of a static quantization, made without editing the graph: per node a role and reason, per activation tensor
/// its parameters. Rules that keep int8 from being slower than float:
/// <list type="bullet">
/// <item>Conv, Gemm and MatMul are quantized whenever their tensors have ranges: they carry the compute. Except a Conv with at
/// most <see cref="QuantizeStaticOptions.FloatStemMaxChannels"/> input channels (an RGB stem): QLinearConv's im2col over
/// K = 3·k·k is slower than ONNX Runtime's float NCHWc Conv (ppocrv4_det's 3→16 3×3/2 at 640²: 6.0 ms int8 vs 4.6 ms float,
/// whole model 5–6 % faster with it float). Off by default: measured on one model only.</item>
/// <item>Cheap ops (Add, Mul, Concat, pools, Sigmoid, LeakyRelu) only when some activation input is already produced in int8:
/// a float operand beside it (e.g. a squeeze-excitation gate from a float HardSigmoid) is quantized, which costs no more than
/// dequantizing the int8 one; in QDQ form with int8 activations only those ONNX Runtime fuses for int8.</item>
/// <item>Passthrough ops (Reshape, Transpose, Flatten, Squeeze, Unsqueeze, MaxPool, Resize, DepthToSpace) reuse their input's parameters (no
/// range needed) and are kept in int8 only when their input is int8 and some consumer wants int8.</item>
/// <item>A Relu, or a Clip with min 0, that alone consumes a quantized output is folded: the output is quantized over the
/// activation's range with the zero point at the lowest code, so the quantizer's clamp is the activation (exact).</item>
/// <item>Mul/Div of an int8 tensor by a positive scalar constant, and Add/Sub of a scalar constant (uint8 activations), are
/// rescales: the output reuses the input's codes with scale·c (scale/c), or with the zero point moved by round(b/scale) codes
/// (a shift of at most half a step off b; done only while the zero point stays a valid code). No op runs: the decomposed
/// hard-swish <c>x·Clip(x+3, 0, 6)/6</c> and Paddle's scalar affine blocks then cost no DequantizeLinear/float op/QuantizeLinear.</item>
/// <item>A tensor feeding only a decomposed hard-swish <c>x·Clip(x+3, 0, 6)</c> is quantized over [max(min, −3), max]: below −3
/// the output is 0 either way, and the codes go where it is not.</item>
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
        ConvTransposeToDepthToSpacePass.DepthToSpace,
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
    private readonly Func<Value, int?> _rankOf;

    private StaticQuantPlan(Graph graph, QuantizeStaticOptions options, Func<string, TensorRange?> ranges, long opset, Func<Value, int?>? rankOf)
    {
        _options = options;
        _rankOf = rankOf ?? (v => v.TensorType?.Rank);
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

    /// <summary>
    /// Decides every node of <paramref name="graph"/> (which must be topologically sorted). <paramref name="rankOf"/> gives tensor
    /// ranks where known (inferred shapes; the declared type when omitted).
    /// </summary>
    public static StaticQuantPlan Make(Graph graph, QuantizeStaticOptions options, Func<string, TensorRange?> ranges, long opset, Func<Value, int?>? rankOf = null)
    {
        var plan = new StaticQuantPlan(graph, options, ranges, opset, rankOf);
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
            if (op == OpTypes.Conv && StemChannels(node) is { } cin && cin <= _options.FloatStemMaxChannels)
            {
                Float(d, $"{cin} input channels ≤ FloatStemMaxChannels {_options.FloatStemMaxChannels}: ONNX Runtime's float Conv beats QLinearConv on so few channels");
            }
            else if (op is OpTypes.Conv or OpTypes.Gemm or OpTypes.MatMul) DecideCompute(d, anchor: true);
            else if (TryRescale(d)) continue;
            else if (CheapOps.Contains(op)) DecideCheap(d);
            else if (PassthroughOps.Contains(op)) DecidePassthrough(d);
            else if (op == OpTypes.ConvTranspose) DecideWeightOnly(d);
            else if (op is OpTypes.Softmax or OpTypes.LayerNormalization) Float(d, $"{op} is left in float (int8 {op} costs accuracy)");
            else if (op is OpTypes.Relu or OpTypes.Clip) Float(d, "not folded: its input is not the sole output of a quantized op");
            else Float(d, $"no int8 kernel for {op} in ONNX Runtime's CPU EP");
        }
    }

    /// <summary>A Conv's input channels from its constant weight (C_in/group · group), or null.</summary>
    private static long? StemChannels(Node conv) =>
        conv.Input(ConvInput.W)?.Constant is { Rank: >= 3 } w ? w.Dims[1] * conv.GetInt(AttrNames.Group, 1) : null;

    /// <summary>Makes <paramref name="d"/> a <see cref="NodeRole.Rescale"/> when it qualifies; false leaves it undecided.</summary>
    private bool TryRescale(NodeDecision d)
    {
        var node = d.Node;
        if (!_options.RescaleScalarOps || node.OpType is not (OpTypes.Mul or OpTypes.Div or OpTypes.Add or OpTypes.Sub)) return false;
        if (node.Inputs.Count != 2 || node.Outputs.Count != 1) return false;
        var commutative = node.OpType is OpTypes.Mul or OpTypes.Add;
        var xIndex = node.Input(0) is { } a && Int8Produced.Contains(a) ? 0 : commutative && node.Input(1) is { } b && Int8Produced.Contains(b) ? 1 : -1;
        if (xIndex < 0) return false;
        if (node.Input(1 - xIndex)?.Constant is not { ElementCount: 1, DataType: TensorDataType.Float } ct) return false;
        var x = node.Input(xIndex)!;
        var output = node.Output(0);
        // A Relu/Clip after it needs a requantizing op to clamp: as an int8 Add/Mul the activation folds into its output.
        if (FoldableActivation(node, output) != null) return false;
        // The constant must not broadcast the tensor to a higher rank (a scalar of rank ≤ the tensor's keeps its shape).
        if (ct.Rank > 0 && (_rankOf(x) is not { } rank || rank < ct.Rank)) return false;
        // Asked for even when unused: with other ranges this node may fall back to an int8 Add/Mul, which reads it.
        RequestedRanges.Add(output.Name);
        var c = (double)ct.ToSingles()[0];
        var p = Params[x];
        QuantParams result;
        string how;
        if (node.OpType is OpTypes.Mul or OpTypes.Div)
        {
            if (!(c > 0) || double.IsInfinity(c)) return false;
            var scale = (float)(node.OpType == OpTypes.Mul ? p.Scale * c : p.Scale / c);
            if (!float.IsNormal(scale)) return false;
            result = new QuantParams(scale, p.ZeroPoint);
            how = $"scale {p.Scale:G6} → {scale:G6}";
        }
        else
        {
            if (_options.ActivationType != QuantType.U8 || !double.IsFinite(c)) return false;
            var shift = (node.OpType == OpTypes.Add ? c : -c) / p.Scale;
            if (Math.Abs(shift) > ActivationCodes.Max - ActivationCodes.Min) return false;
            var zeroPoint = p.ZeroPoint - (int)Math.Round(shift, MidpointRounding.ToEven);
            if (zeroPoint < ActivationCodes.Min || zeroPoint > ActivationCodes.Max) return false;
            result = new QuantParams(p.Scale, zeroPoint);
            how = $"zero point {p.ZeroPoint} → {zeroPoint} (adds {(p.ZeroPoint - zeroPoint) * (double)p.Scale:G6} for {(node.OpType == OpTypes.Add ? c : -c):G6})";
        }
        Params[output] = result;
        Int8Produced.Add(output);
        d.Role = NodeRole.Rescale;
        d.ActivationInputs.Add(xIndex);
        d.Output = output;
        d.Message = $"int8 rescale, no op: '{output.Name}' reads the codes of '{x.Name}' with {how}";
        return true;
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
        if (!anchor && !d.ActivationInputs.Any(i => Int8Produced.Contains(node.Input(i)!)))
        {
            var v = node.Input(d.ActivationInputs[0])!;
            Float(d, $"no input is int8 ('{v.Name}' comes from float {(v.Producer == null ? "graph input" : v.Producer.OpType)}); quantizing {node.OpType} alone would add Q/DQ overhead");
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
        if ((Range(effective.Name) ?? ShuffledRange(effective)) is { } range)
        {
            outParams = folded is { } f
                ? Activation(new TensorRange(0, MathF.Min(MathF.Max(range.Max, 0), f.Max)), nonNegativeFold: true)
                : Activation(HardSwishFloor(effective) is { } floor && range.Min < floor ? new TensorRange(floor, MathF.Max(range.Max, floor)) : range, false);
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

    /// <summary>
    /// The range of the DepthToSpace that alone reads <paramref name="t"/> (a permutation: same values, same range), for tensors a
    /// table made before <see cref="ConvTransposeToDepthToSpacePass"/> cannot name; null otherwise.
    /// </summary>
    private TensorRange? ShuffledRange(Value t) =>
        t is { IsGraphOutput: false, Uses.Count: 1 } && t.Uses[0].Node is { } user && user.Is(ConvTransposeToDepthToSpacePass.DepthToSpace)
            ? Range(user.Output(0).Name) : null;

    /// <summary>
    /// −3 when <paramref name="x"/> feeds only a decomposed hard-swish <c>x · Clip(x + 3, 0, 6)</c> (then ÷6 or not): every x ≤ −3
    /// gives 0, so its quantized range may stop at −3 and spends its codes where the output changes (exact: the quantizer clamps
    /// x to −3, where Clip(x + 3) = 0). Null otherwise.
    /// </summary>
    private static float? HardSwishFloor(Value x)
    {
        if (x.IsGraphOutput || x.Uses.Count != 2) return null;
        var add = x.Uses.Select(u => u.Node).FirstOrDefault(n => n.Is(OpTypes.Add));
        var mul = x.Uses.Select(u => u.Node).FirstOrDefault(n => n.Is(OpTypes.Mul));
        if (add == null || mul == null || add.Inputs.Count != 2 || mul.Inputs.Count != 2) return null;
        var three = add.Input(add.Input(0) == x ? 1 : 0)?.Constant;
        if (three is not { ElementCount: 1, DataType: TensorDataType.Float } || three.ToSingles()[0] != 3f) return null;
        if (add.Output(0) is not { IsGraphOutput: false, Uses.Count: 1 } sum) return null;
        var clip = sum.Uses[0].Node;
        if (!clip.Is(OpTypes.Clip) || ClipBounds(clip) is not (0f, 6f)) return null;
        if (clip.Output(0) is not { Uses.Count: 1 } gate || gate.Uses[0].Node != mul) return null;
        return mul.Inputs.Contains(x) ? -3f : null;
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
        if (op == ConvTransposeToDepthToSpacePass.DepthToSpace && _opset < 13)
        {
            Float(d, "DepthToSpace runs uint8 in ONNX Runtime from opset 13");
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
            var wanted = output.Uses.Any(u => DecisionOf(u.Node) is { } c && c.Role is NodeRole.Compute or NodeRole.Passthrough or NodeRole.Rescale && c.Node.Input(u.InputIndex) == output
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
