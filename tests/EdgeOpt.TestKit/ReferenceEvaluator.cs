using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.TestKit;

/// <summary>A dense tensor of doubles for <see cref="ReferenceEvaluator"/>.</summary>
public sealed record NdArray(long[] Dims, double[] Data)
{
    public static NdArray Random(int seed, params long[] dims) =>
        new(dims, Array.ConvertAll(TinyModels.Random(checked((int)dims.Aggregate(1L, (a, b) => a * b)), seed), v => (double)v));

    public override string ToString() => $"[{string.Join(",", Dims)}]";
}

/// <summary>
/// A naive, obviously-correct evaluator of a model's main graph in double precision, for numeric checks of exact passes
/// without a runtime. Operators: Conv (2-D, groups, strides, pads, dilations), ConvTranspose (2-D, groups, strides, pads,
/// dilations, output_padding), Gemm, BatchNormalization, Relu, Identity, Dropout (inference), Transpose, Reshape,
/// Squeeze, Unsqueeze. Float, float16 and double initializers are read as doubles.
/// </summary>
public static class ReferenceEvaluator
{
    /// <summary>The graph outputs by name, for inputs given by name.</summary>
    public static IReadOnlyDictionary<string, NdArray> Run(Model model, IReadOnlyDictionary<string, NdArray> inputs)
    {
        var env = new Dictionary<Value, NdArray>();
        foreach (var input in model.Graph.Inputs)
        {
            if (inputs.TryGetValue(input.Name, out var given)) env[input] = given;
        }
        foreach (var node in model.Graph.Nodes) Evaluate(node, env);
        return model.Graph.Outputs.ToDictionary(o => o.Name, o => Read(o, env));
    }

    /// <summary>Whether every element satisfies |a − b| ≤ atol + rtol·|b|; the message names the worst element.</summary>
    public static bool AllClose(NdArray actual, NdArray expected, double rtol, double atol, out string message)
    {
        message = "";
        if (!actual.Dims.SequenceEqual(expected.Dims))
        {
            message = $"shape {actual} differs from {expected}";
            return false;
        }
        var worst = -1;
        var worstExcess = 0.0;
        for (var i = 0; i < actual.Data.Length; i++)
        {
            var excess = Math.Abs(actual.Data[i] - expected.Data[i]) - (atol + rtol * Math.Abs(expected.Data[i]));
            if (excess > worstExcess || double.IsNaN(excess))
            {
                worst = i;
                worstExcess = double.IsNaN(excess) ? double.PositiveInfinity : excess;
            }
        }
        if (worst < 0) return true;
        message = $"element {worst}: {actual.Data[worst]} vs {expected.Data[worst]}";
        return false;
    }

    private static void Evaluate(Node node, Dictionary<Value, NdArray> env)
    {
        NdArray In(int i) => Read(node.Input(i)!, env);
        NdArray? Optional(int i) => node.Input(i) is { } v ? Read(v, env) : null;
        var result = node.OpType switch
        {
            OpTypes.Conv => Conv(node, In(0), In(1), Optional(2)),
            OpTypes.ConvTranspose => ConvTranspose(node, In(0), In(1), Optional(2)),
            OpTypes.Gemm => Gemm(node, In(0), In(1), Optional(2)),
            OpTypes.BatchNormalization => BatchNorm(node, In(0), In(1), In(2), In(3), In(4)),
            OpTypes.Relu => new NdArray(In(0).Dims, Array.ConvertAll(In(0).Data, v => Math.Max(v, 0))),
            OpTypes.Identity or OpTypes.Dropout => In(0),
            OpTypes.Transpose => Transpose(In(0), node.GetInts(AttrNames.Perm)),
            OpTypes.Reshape => Reshape(In(0), Ints(In(1)), node.GetInt(AttrNames.AllowZero, 0) != 0),
            OpTypes.Squeeze => Squeeze(In(0), node.GetInts(AttrNames.Axes) ?? (Optional(1) is { } a ? Ints(a) : null)),
            OpTypes.Unsqueeze => Unsqueeze(In(0), node.GetInts(AttrNames.Axes) ?? Ints(In(1))),
            _ => throw new NotSupportedException($"the reference evaluator has no {node.OpType}"),
        };
        env[node.Output(0)] = result;
    }

    private static NdArray Read(Value v, Dictionary<Value, NdArray> env)
    {
        if (env.TryGetValue(v, out var a)) return a;
        var t = v.Constant ?? throw new InvalidOperationException($"'{v.Name}' has no value (missing input?)");
        double[] data = t.DataType switch
        {
            TensorDataType.Double => t.ToArray<double>(),
            TensorDataType.Float16 => Array.ConvertAll(t.ToArray<Half>(), h => (double)h),
            TensorDataType.Int64 or TensorDataType.Int32 => Array.ConvertAll(t.ToInt64s(), l => (double)l),
            _ => Array.ConvertAll(t.ToSingles(), f => (double)f),
        };
        return env[v] = new NdArray(t.DimsArray(), data);
    }

    private static long[] Ints(NdArray a) => Array.ConvertAll(a.Data, d => (long)d);

    private static long[] Attr(Node n, string name, int count, long fallback) =>
        n.GetInts(name)?.ToArray() ?? Enumerable.Repeat(fallback, count).ToArray();

    /// <summary>2-D convolution geometry: strides, dilations, pads (top, left, bottom, right), kernel and input sizes.</summary>
    private sealed record Window(long[] Strides, long[] Dilations, long[] Pads, long KernelH, long KernelW, long InH, long InW)
    {
        public static Window Of(Node n, NdArray x, NdArray w) => new(
            Attr(n, AttrNames.Strides, 2, 1), Attr(n, AttrNames.Dilations, 2, 1), Attr(n, AttrNames.Pads, 4, 0),
            w.Dims[2], w.Dims[3], x.Dims[2], x.Dims[3]);
    }

    /// <summary>y[n, oc, oy, ox] = b[oc] + Σ x[n, g·C/group + ic, oy·s − p + ky·d, ox·s − p + kx·d] · w[oc, ic, ky, kx].</summary>
    private static NdArray Conv(Node n, NdArray x, NdArray w, NdArray? b)
    {
        Require(x.Dims.Length == 4 && w.Dims.Length == 4, "Conv is 2-D only");
        var (batch, c, m, cg) = (x.Dims[0], x.Dims[1], w.Dims[0], w.Dims[1]);
        var group = n.GetInt(AttrNames.Group, 1);
        Require(c == cg * group && m % group == 0, "Conv channels do not match the group");
        var g = Window.Of(n, x, w);
        var oh = (g.InH + g.Pads[0] + g.Pads[2] - g.Dilations[0] * (g.KernelH - 1) - 1) / g.Strides[0] + 1;
        var ow = (g.InW + g.Pads[1] + g.Pads[3] - g.Dilations[1] * (g.KernelW - 1) - 1) / g.Strides[1] + 1;
        var y = new double[batch * m * oh * ow];
        for (long o = 0; o < y.Length; o++)
        {
            var (ni, oc, oy, ox) = (o / (m * oh * ow), o / (oh * ow) % m, o / ow % oh, o % ow);
            var firstChannel = oc / (m / group) * cg;
            var sum = b?.Data[oc] ?? 0;
            for (long ic = 0; ic < cg; ic++) sum += ConvTap(x, w, g, ni, firstChannel + ic, oc, ic, oy, ox);
            y[o] = sum;
        }
        return new NdArray([batch, m, oh, ow], y);
    }

    /// <summary>One input channel's contribution to one Conv output element.</summary>
    private static double ConvTap(NdArray x, NdArray w, Window g, long ni, long xc, long oc, long wc, long oy, long ox)
    {
        var (c, cg) = (x.Dims[1], w.Dims[1]);
        var sum = 0.0;
        for (long ky = 0; ky < g.KernelH; ky++)
        {
            for (long kx = 0; kx < g.KernelW; kx++)
            {
                var iy = oy * g.Strides[0] - g.Pads[0] + ky * g.Dilations[0];
                var ix = ox * g.Strides[1] - g.Pads[1] + kx * g.Dilations[1];
                if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                sum += x.Data[((ni * c + xc) * g.InH + iy) * g.InW + ix] * w.Data[((oc * cg + wc) * g.KernelH + ky) * g.KernelW + kx];
            }
        }
        return sum;
    }

    /// <summary>
    /// The transpose of Conv, as a gather: y[n, g·M/group + j, oy, ox] = b + Σ x[n, ic, iy, ix] · w[ic, j, ky, kx] over the
    /// group's input channels ic and the taps with oy = iy·s + ky·d − p (same for x).
    /// </summary>
    private static NdArray ConvTranspose(Node n, NdArray x, NdArray w, NdArray? b)
    {
        Require(x.Dims.Length == 4 && w.Dims.Length == 4, "ConvTranspose is 2-D only");
        var (batch, c, mg) = (x.Dims[0], x.Dims[1], w.Dims[1]);
        var group = n.GetInt(AttrNames.Group, 1);
        Require(c == w.Dims[0] && c % group == 0, "ConvTranspose channels do not match the group");
        var g = Window.Of(n, x, w);
        var op = Attr(n, AttrNames.OutputPadding, 2, 0);
        var m = mg * group;
        var oh = g.Strides[0] * (g.InH - 1) + op[0] + g.Dilations[0] * (g.KernelH - 1) + 1 - g.Pads[0] - g.Pads[2];
        var ow = g.Strides[1] * (g.InW - 1) + op[1] + g.Dilations[1] * (g.KernelW - 1) + 1 - g.Pads[1] - g.Pads[3];
        var y = new double[batch * m * oh * ow];
        var cg = c / group;
        for (long o = 0; o < y.Length; o++)
        {
            var (ni, oc, oy, ox) = (o / (m * oh * ow), o / (oh * ow) % m, o / ow % oh, o % ow);
            var (gi, j) = (oc / mg, oc % mg);
            var sum = b?.Data[oc] ?? 0;
            for (var ic = gi * cg; ic < (gi + 1) * cg; ic++) sum += ConvTransposeTap(x, w, g, ni, ic, j, oy, ox);
            y[o] = sum;
        }
        return new NdArray([batch, m, oh, ow], y);
    }

    /// <summary>One input channel's contribution to one ConvTranspose output element.</summary>
    private static double ConvTransposeTap(NdArray x, NdArray w, Window g, long ni, long ic, long j, long oy, long ox)
    {
        var (c, mg) = (x.Dims[1], w.Dims[1]);
        var sum = 0.0;
        for (long ky = 0; ky < g.KernelH; ky++)
        {
            for (long kx = 0; kx < g.KernelW; kx++)
            {
                var ty = oy + g.Pads[0] - ky * g.Dilations[0];
                var tx = ox + g.Pads[1] - kx * g.Dilations[1];
                if (ty < 0 || tx < 0 || ty % g.Strides[0] != 0 || tx % g.Strides[1] != 0) continue;
                var (iy, ix) = (ty / g.Strides[0], tx / g.Strides[1]);
                if (iy >= g.InH || ix >= g.InW) continue;
                sum += x.Data[((ni * c + ic) * g.InH + iy) * g.InW + ix] * w.Data[((ic * mg + j) * g.KernelH + ky) * g.KernelW + kx];
            }
        }
        return sum;
    }

    private static NdArray Gemm(Node n, NdArray a, NdArray b, NdArray? c)
    {
        var transA = n.GetInt(AttrNames.TransA, 0) != 0;
        var transB = n.GetInt(AttrNames.TransB, 0) != 0;
        var alpha = (double)n.GetFloat(AttrNames.Alpha, 1f);
        var beta = (double)n.GetFloat(AttrNames.Beta, 1f);
        var (rows, k) = transA ? (a.Dims[1], a.Dims[0]) : (a.Dims[0], a.Dims[1]);
        var cols = transB ? b.Dims[0] : b.Dims[1];
        var y = new double[rows * cols];
        for (long o = 0; o < y.Length; o++)
        {
            var (i, j) = (o / cols, o % cols);
            var sum = 0.0;
            for (long t = 0; t < k; t++)
            {
                var av = transA ? a.Data[t * rows + i] : a.Data[i * k + t];
                var bv = transB ? b.Data[j * k + t] : b.Data[t * cols + j];
                sum += av * bv;
            }
            y[o] = alpha * sum + (c == null ? 0 : beta * Broadcast2D(c, i, j));
        }
        return new NdArray([rows, cols], y);
    }

    private static double Broadcast2D(NdArray c, long i, long j)
    {
        var cRows = c.Dims.Length == 2 ? c.Dims[0] : 1;
        var cCols = c.Dims.Length == 0 ? 1 : c.Dims[^1];
        return c.Data[(cRows == 1 ? 0 : i) * cCols + (cCols == 1 ? 0 : j)];
    }

    private static NdArray BatchNorm(Node n, NdArray x, NdArray scale, NdArray bias, NdArray mean, NdArray variance)
    {
        var eps = (double)n.GetFloat(AttrNames.Epsilon, 1e-5f);
        var channels = x.Dims[1];
        var inner = x.Dims.Skip(2).Aggregate(1L, (p, q) => p * q);
        var y = new double[x.Data.Length];
        for (long i = 0; i < y.Length; i++)
        {
            var ch = i / inner % channels;
            y[i] = (x.Data[i] - mean.Data[ch]) / Math.Sqrt(variance.Data[ch] + eps) * scale.Data[ch] + bias.Data[ch];
        }
        return new NdArray(x.Dims, y);
    }

    private static NdArray Transpose(NdArray x, IReadOnlyList<long>? permAttr)
    {
        var rank = x.Dims.Length;
        var perm = permAttr?.ToArray() ?? [.. Enumerable.Range(0, rank).Reverse().Select(i => (long)i)];
        var outDims = perm.Select(p => x.Dims[p]).ToArray();
        var inStrides = Strides(x.Dims);
        var y = new double[x.Data.Length];
        var index = new long[rank];
        for (long flat = 0; flat < y.Length; flat++)
        {
            var rest = flat;
            for (var axis = rank - 1; axis >= 0; axis--)
            {
                index[axis] = rest % outDims[axis];
                rest /= outDims[axis];
            }
            long source = 0;
            for (var axis = 0; axis < rank; axis++) source += index[axis] * inStrides[perm[axis]];
            y[flat] = x.Data[source];
        }
        return new NdArray(outDims, y);
    }

    private static NdArray Reshape(NdArray x, long[] shape, bool allowZero)
    {
        var dims = shape.Select((s, i) => s == 0 && !allowZero ? x.Dims[i] : s).ToArray();
        var known = dims.Where(s => s != -1).Aggregate(1L, (p, q) => p * q);
        for (var i = 0; i < dims.Length; i++)
        {
            if (dims[i] == -1) dims[i] = x.Data.Length / known;
        }
        Require(dims.Aggregate(1L, (p, q) => p * q) == x.Data.Length, "Reshape changes the element count");
        return x with { Dims = dims };
    }

    private static NdArray Squeeze(NdArray x, IReadOnlyList<long>? axes)
    {
        var rank = x.Dims.Length;
        var drop = axes?.Select(a => a < 0 ? a + rank : a).ToHashSet() ?? [.. Enumerable.Range(0, rank).Where(i => x.Dims[i] == 1).Select(i => (long)i)];
        Require(drop.All(a => x.Dims[a] == 1), "Squeeze of a dimension that is not 1");
        return x with { Dims = [.. x.Dims.Where((_, i) => !drop.Contains(i))] };
    }

    private static NdArray Unsqueeze(NdArray x, IReadOnlyList<long> axes)
    {
        var rank = x.Dims.Length + axes.Count;
        var insert = axes.Select(a => a < 0 ? a + rank : a).ToHashSet();
        var dims = new long[rank];
        var source = 0;
        for (var i = 0; i < rank; i++) dims[i] = insert.Contains(i) ? 1 : x.Dims[source++];
        return x with { Dims = dims };
    }

    private static long[] Strides(long[] dims)
    {
        var strides = new long[dims.Length];
        long step = 1;
        for (var i = dims.Length - 1; i >= 0; i--)
        {
            strides[i] = step;
            step *= dims[i];
        }
        return strides;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new NotSupportedException(message);
    }
}
