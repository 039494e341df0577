using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Onnx.Shapes;

/// <summary>Arithmetic on dimensions that may be numbers, symbols or unknown.</summary>
public static class Dims
{
    /// <summary>Numpy-style multidirectional broadcasting; null when any shape is unknown.</summary>
    public static Dim[]? Broadcast(params IReadOnlyList<Dim>?[] shapes)
    {
        if (shapes.Any(s => s == null)) return null;
        var rank = shapes.Max(s => s!.Count);
        var result = new Dim[rank];
        for (var i = 0; i < rank; i++)
        {
            Dim? acc = null;
            foreach (var s in shapes)
            {
                var j = i - (rank - s!.Count);
                if (j < 0) continue;
                acc = acc is { } a ? Merge(a, s[j]) : s[j];
            }
            result[i] = acc ?? Dim.Of(1);
        }
        return result;
    }

    /// <summary>The broadcast of two dimensions: 1 yields to the other; a number wins over a symbol.</summary>
    private static Dim Merge(Dim a, Dim b)
    {
        if (a.Value == 1) return b;
        if (b.Value == 1) return a;
        if (a.IsKnown) return a;
        if (b.IsKnown) return b;
        return a.Param != null && a.Param == b.Param ? a : (a.Param != null && b.Param == null ? a : b.Param != null && a.Param == null ? b : Dim.Unknown);
    }

    public static Dim Mul(Dim a, Dim b) =>
        a.IsKnown && b.IsKnown ? Dim.Of(a.Value!.Value * b.Value!.Value) : a.Value == 1 ? b : b.Value == 1 ? a : Dim.Unknown;

    public static Dim Add(Dim a, Dim b) => a.IsKnown && b.IsKnown ? Dim.Of(a.Value!.Value + b.Value!.Value) : b.Value == 0 ? a : a.Value == 0 ? b : Dim.Unknown;

    public static Dim Product(IEnumerable<Dim> dims) => dims.Aggregate(Dim.Of(1), Mul);

    /// <summary>Normalizes a possibly negative axis; throws when it is out of range.</summary>
    public static int Axis(long axis, int rank)
    {
        var a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= Math.Max(rank, 1)) throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is outside rank {rank}");
        return (int)a;
    }

    /// <summary>A sliding-window output length (conv, pool): <c>floor or ceil((in + pads − dilation·(k−1) − 1) / stride) + 1</c>.</summary>
    public static Dim Window(Dim input, long kernel, long stride, long dilation, long padBegin, long padEnd, bool ceil = false)
    {
        if (!input.IsKnown) return Dim.Unknown;
        var span = input.Value!.Value + padBegin + padEnd - (dilation * (kernel - 1) + 1);
        if (span < 0) return Dim.Unknown;
        var q = ceil ? (span + stride - 1) / stride : span / stride;
        if (ceil && q * stride >= input.Value!.Value + padBegin) q--;
        return Dim.Of(q + 1);
    }

    /// <summary>The output length under <c>SAME_UPPER</c>/<c>SAME_LOWER</c> padding: <c>ceil(in / stride)</c>.</summary>
    public static Dim Same(Dim input, long stride) => input.IsKnown ? Dim.Of((input.Value!.Value + stride - 1) / stride) : Dim.Unknown;

    public static string Format(IReadOnlyList<Dim>? shape) => shape == null ? "?" : "[" + string.Join(",", shape) + "]";
}
