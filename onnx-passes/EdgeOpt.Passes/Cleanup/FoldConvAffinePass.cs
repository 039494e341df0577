using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Cleanup;

/// <summary>
/// Folds an elementwise <c>Mul</c>, <c>Div</c>, <c>Add</c> or <c>Sub</c> by a per-output-channel constant into the <c>Conv</c>
/// (or <c>ConvTranspose</c>) that feeds it (Paddle's "learnable affine block", exported as <c>Conv → Mul(s) → Add(t)</c>, and BatchNormalization
/// exported as plain arithmetic).
/// <para>Before: <c>y = Conv(x, W, b) · s</c> (or <c>/ s</c>, <c>+ t</c>, <c>− t</c>). After: <c>y = Conv(x, W', b')</c>.</para>
/// <para>Math, per output channel c: Mul W'[c, …] = W[c, …]·s_c, b'_c = b_c·s_c; Div the same with 1/s_c; Add b'_c = b_c + t_c;
/// Sub b'_c = b_c − t_c (b = 0 when absent). ConvTranspose weights are [C_in, C_out/group, k…]; Mul/Div fold into them only
/// with group 1 (output channel = index along axis 1), Add/Sub with any group. Computed in double and rounded once to the weight's type, so the result is exact up
/// to floating-point rounding. ONNX Runtime does the same for float (ConvMulFusion, ConvAddFusion) at session start, but a
/// quantizer sees the graph before that: folded, the channel scale lands in the int8 weight scales instead of costing an
/// elementwise int8 op (or a float op with DequantizeLinear/QuantizeLinear around it).</para>
/// Preconditions: the constant operand is a float, float16 or double tensor of the weight's type whose shape broadcasts to
/// [N, C, 1, …] (a scalar, [C, 1, …] or [1, C, 1, …], rank at most the Conv output's); the Conv output is its first operand for
/// Div and Sub; Div's divisors are non-zero; the Conv's weight (and bias) are constant; the Conv output feeds only this node and
/// is not a graph output. The Conv output takes over the folded node's output name (it now holds those values; a calibration table
/// keyed by tensor names stays valid). Otherwise the node is skipped with the reason. New tensors are <c>{conv}/affine_folded_weight</c> and <c>{conv}/affine_folded_bias</c>; tensors shared with other
/// nodes are never changed. Exact up to floating-point rounding.
/// </summary>
public sealed class FoldConvAffinePass(NoOptions options) : NodeRewritePass<NoOptions>(options)
{
    public const string PassId = "fold-conv-affine";

    public FoldConvAffinePass() : this(NoOptions.Instance) { }

    public override string Id => PassId;
    public override string Description => "Folds Mul/Div/Add/Sub by a per-channel constant into the Conv before it";
    public override bool IsExact => true;

    protected override bool Matches(Node node) =>
        node.Is(OpTypes.Mul) || node.Is(OpTypes.Div) || node.Is(OpTypes.Add) || node.Is(OpTypes.Sub);

    protected override Rewrite Apply(Node node, GraphEditor edit)
    {
        if (node.Inputs.Count != 2 || node.Input(0) == null || node.Input(1) == null) return Rewrite.Skip("does not have two inputs");
        static bool IsConv(Value v) => v.Producer is { } p && (p.Is(OpTypes.Conv) || p.Is(OpTypes.ConvTranspose));
        var convSide = IsConv(node.Input(0)!) ? 0 : IsConv(node.Input(1)!) ? 1 : -1;
        if (convSide < 0) return Rewrite.Skip("no operand comes from a Conv or ConvTranspose");
        if (convSide == 1 && node.OpType is OpTypes.Div or OpTypes.Sub) return Rewrite.Skip($"the Conv output is the second operand of {node.OpType}");
        var y = node.Input(convSide)!;
        var conv = y.Producer!;
        var operand = node.Input(1 - convSide)!;
        if (operand.Constant is not { } c) return Rewrite.Skip($"operand '{operand.Name}' is not a constant");
        if (Bypass.IntermediateReason(y, node) is { } shared) return Rewrite.Skip(shared);
        var weight = conv.Input(ConvInput.W)?.Constant;
        if (weight == null || weight.Rank < 3 || !FloatTensors.IsSupported(weight.DataType)) return Rewrite.Skip($"{conv.OpType} '{conv.Name}' has no constant float weight");
        if (c.DataType != weight.DataType) return Rewrite.Skip($"operand '{operand.Name}' is {TensorDataTypes.OnnxName(c.DataType)}, the weight {TensorDataTypes.OnnxName(weight.DataType)}");
        var biasValue = conv.Input(ConvInput.B);
        var bias = biasValue?.Constant;
        if (biasValue != null && (bias == null || bias.DataType != weight.DataType || bias.Rank != 1)) return Rewrite.Skip($"{conv.OpType} '{conv.Name}' bias '{biasValue.Name}' is not a constant 1-D tensor of the weight's type");
        var transposed = conv.OpType == OpTypes.ConvTranspose;
        var scaled = node.OpType is OpTypes.Mul or OpTypes.Div;
        var group = conv.GetInt(AttrNames.Group, 1);
        if (transposed && scaled && group != 1) return Rewrite.Skip($"{node.OpType} into a grouped ConvTranspose is not folded");
        var channels = transposed ? weight.Dims[1] * group : weight.Dims[0];
        if (PerChannel(c, weight.Rank, channels) is not { } perChannel) return Rewrite.Skip($"operand shape [{string.Join(",", c.Dims)}] is not per output channel of a [N,{channels},…] Conv output");
        if (node.OpType == OpTypes.Div && perChannel.Any(v => v == 0)) return Rewrite.Skip("divides by zero");

        var w = FloatTensors.ToDoubles(weight)!;
        var b = bias != null ? FloatTensors.ToDoubles(bias)! : new double[channels];
        // Conv: channel c owns the contiguous block [c·inner, (c+1)·inner); ConvTranspose (group 1): every block of `inner` at (i, c).
        var inner = transposed ? w.Length / (weight.Dims[0] * weight.Dims[1]) : w.Length / channels;
        var stride = transposed ? channels * inner : w.Length;
        for (var ch = 0; ch < channels; ch++)
        {
            var k = perChannel[(int)ch % perChannel.Length];
            switch (node.OpType)
            {
                case OpTypes.Mul or OpTypes.Div:
                    var s = node.OpType == OpTypes.Mul ? k : 1.0 / k;
                    for (var start = ch * inner; start < w.Length; start += stride)
                    {
                        for (var i = start; i < start + inner; i++) w[i] *= s;
                    }
                    b[ch] *= s;
                    break;
                case OpTypes.Add:
                    b[ch] += k;
                    break;
                default:
                    b[ch] -= k;
                    break;
            }
        }
        var oldWeight = conv.Input(ConvInput.W)!;
        if (scaled) conv.SetInput(ConvInput.W, edit.Constant(conv, "affine_folded_weight", FloatTensors.Create("", weight.DataType, weight.DimsArray(), w)));
        conv.SetInput(ConvInput.B, edit.Constant(conv, "affine_folded_bias", FloatTensors.Create("", weight.DataType, [channels], b)));
        edit.RemoveIfUnused(oldWeight);
        if (biasValue != null) edit.RemoveIfUnused(biasValue);
        var result = node.Output(0);
        var (resultName, isGraphOutput) = (result.Name, result.IsGraphOutput);
        var keptName = isGraphOutput ? $"; graph output '{resultName}' keeps its name" : "";
        Bypass.ReplaceWithUnusedConstants(edit, node, y);
        // The Conv now computes what the folded node did: it takes that tensor's name (calibration tables keyed by it stay right).
        if (!isGraphOutput && y.Name != resultName) edit.Graph.Rename(y, resultName);
        var what = perChannel.Length == 1 ? "one constant" : $"{perChannel.Length} channel constants";
        return Rewrite.Changed($"{node.OpType} by {what} folded into the {(scaled ? "weight and bias" : "bias")} of {conv.OpType} '{conv.Name}'{keptName}");
    }

    /// <summary>
    /// The operand's values per output channel (one value when it is uniform), or null when its shape is not a scalar, [C,1,…] or
    /// [1,C,1,…] that broadcasts onto a rank-<paramref name="outputRank"/> Conv output without changing its shape.
    /// </summary>
    private static double[]? PerChannel(Tensor c, int outputRank, long channels)
    {
        if (c.Rank > outputRank || c.ElementCount == 0) return null;
        var channelAxis = 1 - (outputRank - c.Rank);
        for (var i = 0; i < c.Rank; i++)
        {
            if (c.Dims[i] == 1) continue;
            if (i != channelAxis || c.Dims[i] != channels) return null;
        }
        return FloatTensors.ToDoubles(c);
    }
}
