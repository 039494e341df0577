using EdgeOpt.Onnx.Ir;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Quantization;

/// <summary>The constant operands of a statically quantized node: int8 weights, int32 bias, quantized constant operands.</summary>
internal static class StaticOperands
{
    /// <summary>
    /// The node's weight as symmetric int8 codes (a Gemm's alpha folded into the values and reset to 1). The old weight
    /// initializer is not touched; callers remove it once nothing reads it.
    /// </summary>
    public static WeightValues Weights(NodeDecision d, QuantEmit emit, bool reduceRange)
    {
        var node = d.Node;
        var (index, axis) = d.Weight!.Value;
        var tensor = node.Input(index)!.Constant!;
        Func<float[], long[], (float[], long[])>? transform = null;
        if (node.Is(OpTypes.Gemm) && node.GetFloat(AttrNames.Alpha, 1f) is var alpha && alpha != 1f)
        {
            transform = (values, dims) => ([.. values.Select(v => v * alpha)], dims);
            node.SetAttribute(Attribute.Float(AttrNames.Alpha, 1f));
        }
        return emit.Weights(node, tensor, axis, reduceRange, transform: transform);
    }

    /// <summary>The bias as int32 codes with scale input scale × weight scale; a Gemm's C is flattened to [N] and its beta folded.</summary>
    public static (Value Codes, Value Scale, Value ZeroPoint, int Clamped) Bias(NodeDecision d, QuantEmit emit, float inputScale, QuantizedWeights w, long channels)
    {
        var node = d.Node;
        var tensor = node.Input(d.Bias!.Value)!.Constant!;
        var values = tensor.ToSingles();
        if (node.Is(OpTypes.Gemm))
        {
            var beta = node.GetFloat(AttrNames.Beta, 1f);
            values = values.Length == 1 ? Enumerable.Repeat(values[0] * beta, (int)channels).ToArray() : [.. values.Select(v => v * beta)];
            node.SetAttribute(Attribute.Float(AttrNames.Beta, 1f));
        }
        return emit.Bias(node, Tensor.Create("", [values.Length], values), inputScale, w);
    }

    /// <summary>Output channels of a weight: Conv [M, …] → M; Gemm B → N (per transB); MatMul B [K, N] → N.</summary>
    public static long Channels(NodeDecision d)
    {
        var node = d.Node;
        var w = node.Input(d.Weight!.Value.Index)!.Constant!;
        if (node.Is(OpTypes.Gemm)) return node.GetInt(AttrNames.TransB, 0) != 0 ? w.Dims[0] : w.Dims[1];
        return node.Is(OpTypes.MatMul) ? w.Dims[w.Rank - 1] : w.Dims[0];
    }

    /// <summary>A float constant operand (of Add, Mul, Concat) quantized per tensor over its own range with the activation type.</summary>
    public static (Value Codes, Value Scale, Value ZeroPoint, QuantParams Params) Constant(NodeDecision d, int index, QuantEmit emit, QuantType type)
    {
        var node = d.Node;
        var tensor = node.Input(index)!.Constant!;
        var values = tensor.ToSingles();
        var codes = QuantMath.Codes(type, symmetric: type == QuantType.S8);
        var p = QuantMath.Compute(QuantMath.RangeOf(values), codes, symmetric: type == QuantType.S8);
        var name = $"{QuantEmit.BaseName(node)}/operand{index}";
        return (emit.Constant(name + "_quantized", QuantMath.ToTensor("", type, tensor.DimsArray(), QuantMath.QuantizeAll(values, p, codes))),
            emit.Scale(name + "_scale", p.Scale), emit.ZeroPoint(name + "_zero_point", type, p.ZeroPoint), p);
    }

    /// <summary>The node whose output is the quantized tensor's float form: the folded activation, or the node itself.</summary>
    public static Node OutputNode(NodeDecision d) => d.Folded ?? d.Node;
}
