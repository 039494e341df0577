using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;

namespace EdgeOpt.Onnx.Analysis;

/// <summary>
/// Multiply-accumulates of the operators that dominate inference cost: Conv, ConvTranspose (and their integer
/// forms), Gemm, MatMul (and integer forms), LSTM/GRU/RNN. Element-wise ops, pooling and normalization are not
/// counted (they are memory-bound and small next to these), the convention of the usual MAC/FLOP counters.
/// </summary>
public static class CostModel
{
    /// <summary>True for operators whose MACs this model counts.</summary>
    public static bool Counts(Node node) => node.IsOnnxDomain && node.OpType is OpTypes.Conv or OpTypes.ConvTranspose or "ConvInteger" or "QLinearConv"
        or OpTypes.Gemm or OpTypes.MatMul or "MatMulInteger" or "QLinearMatMul" or OpTypes.LSTM or OpTypes.GRU or "RNN";

    /// <summary>The MACs of <paramref name="node"/>: 0 for uncounted ops, null when a counted op's shapes are unknown.</summary>
    public static long? Macs(Node node, ShapeInferenceResult shapes)
    {
        if (!Counts(node)) return 0;
        return node.OpType switch
        {
            OpTypes.Conv or "ConvInteger" => Conv(shapes.StaticShapeOf(node.Output(0)), shapes.StaticShapeOf(node.Input(1))),
            "QLinearConv" => Conv(shapes.StaticShapeOf(node.Output(0)), shapes.StaticShapeOf(node.Input(3))),
            OpTypes.ConvTranspose => ConvTranspose(shapes.StaticShapeOf(node.Input(0)), shapes.StaticShapeOf(node.Input(1))),
            OpTypes.Gemm => Gemm(shapes.StaticShapeOf(node.Input(0)), shapes.StaticShapeOf(node.Output(0)), node),
            OpTypes.MatMul or "MatMulInteger" => MatMul(shapes.StaticShapeOf(node.Input(0)), shapes.StaticShapeOf(node.Output(0))),
            "QLinearMatMul" => MatMul(shapes.StaticShapeOf(node.Input(0)), shapes.StaticShapeOf(node.Output(0))),
            _ => Recurrent(shapes.StaticShapeOf(node.Input(0)), node),
        };
    }

    /// <summary>Output elements × (input channels / group) × kernel area.</summary>
    private static long? Conv(long[]? y, long[]? w) =>
        y == null || w == null ? null : Product(y) * Product(w.AsSpan(1));

    /// <summary>Input elements × (output channels / group) × kernel area (each input pixel scatters one kernel).</summary>
    private static long? ConvTranspose(long[]? x, long[]? w) =>
        x == null || w == null ? null : Product(x) * Product(w.AsSpan(1));

    private static long? Gemm(long[]? a, long[]? y, Node node)
    {
        if (a is not { Length: 2 } || y is not { Length: 2 }) return null;
        var k = node.GetInt(AttrNames.TransA, 0) == 1 ? a[0] : a[1];
        return y[0] * y[1] * k;
    }

    /// <summary>Output elements × the shared dimension.</summary>
    private static long? MatMul(long[]? a, long[]? y) => a is not { Length: > 0 } || y == null ? null : Math.Max(1, Product(y)) * a[^1];

    /// <summary>Per time step and direction: gates × hidden × (input + hidden), the two matrix products of the cell.</summary>
    private static long? Recurrent(long[]? x, Node node)
    {
        if (x is not { Length: 3 } || node.GetAttribute("hidden_size") == null) return null;
        var hidden = node.GetInt("hidden_size", 0);
        var gates = node.OpType switch { OpTypes.LSTM => 4, OpTypes.GRU => 3, _ => 1 };
        var dirs = node.GetString("direction", "forward") == "bidirectional" ? 2 : 1;
        return x[0] * x[1] * dirs * gates * hidden * (x[2] + hidden);
    }

    private static long Product(ReadOnlySpan<long> dims)
    {
        long p = 1;
        foreach (var d in dims) p *= d;
        return p;
    }
}
