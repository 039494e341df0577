using EdgeOpt.Onnx.Ir;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Factorization;

/// <summary>Weights with a known low-rank structure (so a factorization at that rank is exact), and small graphs around them.</summary>
internal static class FactorModels
{
    /// <summary>A rows×cols matrix of rank <paramref name="rank"/>: A·B with seeded A [rows, rank], B [rank, cols], scaled to O(1) entries.</summary>
    public static float[] LowRankMatrix(int rows, int cols, int rank, int seed)
    {
        var a = TinyModels.Random(rows * rank, seed);
        var b = TinyModels.Random(rank * cols, seed + 1);
        var w = new float[rows * cols];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < cols; j++)
            {
                double sum = 0;
                for (var t = 0; t < rank; t++) sum += a[i * rank + t] * b[t * cols + j];
                w[i * cols + j] = (float)(sum / Math.Sqrt(rank));
            }
        }
        return w;
    }

    /// <summary>The transpose of a row-major rows×cols matrix.</summary>
    public static float[] Transpose(float[] a, int rows, int cols)
    {
        var t = new float[a.Length];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        }
        return t;
    }

    /// <summary>A Tucker-2 tensor W[k,c,i,j] = Σ_ab U[k,a]·G[a,b,i,j]·V[c,b]: mode ranks rOut and rIn.</summary>
    public static float[] Tucker(int k, int c, int kh, int kw, int rOut, int rIn, int seed)
    {
        var u = TinyModels.Random(k * rOut, seed);
        var v = TinyModels.Random(c * rIn, seed + 1);
        var g = TinyModels.Random(rOut * rIn * kh * kw, seed + 2);
        var w = new float[k * c * kh * kw];
        for (var o = 0; o < k; o++)
        {
            for (var ic = 0; ic < c; ic++)
            {
                for (var s = 0; s < kh * kw; s++)
                {
                    double sum = 0;
                    for (var a = 0; a < rOut; a++)
                    {
                        for (var b = 0; b < rIn; b++) sum += u[o * rOut + a] * g[(a * rIn + b) * kh * kw + s] * v[ic * rIn + b];
                    }
                    w[(o * c + ic) * kh * kw + s] = (float)(sum / Math.Sqrt(rOut * rIn));
                }
            }
        }
        return w;
    }

    /// <summary>A conv weight [K, C, kh, kw] whose reshape to [C·kh, K·kw] has rank <paramref name="rank"/> (spatially separable).</summary>
    public static float[] SpatiallySeparable(int k, int c, int kh, int kw, int rank, int seed)
    {
        var m = LowRankMatrix(c * kh, k * kw, rank, seed);
        var w = new float[k * c * kh * kw];
        for (var o = 0; o < k; o++)
        {
            for (var ic = 0; ic < c; ic++)
            {
                for (var i = 0; i < kh; i++)
                {
                    for (var j = 0; j < kw; j++) w[((o * c + ic) * kh + i) * kw + j] = m[(ic * kh + i) * (k * kw) + o * kw + j];
                }
            }
        }
        return w;
    }

    /// <summary>A depthwise-separable bank W[k,c,i,j] = p[k,c]·d[c,i,j].</summary>
    public static float[] DepthwiseSeparable(int k, int c, int kh, int kw, int seed)
    {
        var p = TinyModels.Random(k * c, seed);
        var d = TinyModels.Random(c * kh * kw, seed + 1);
        var w = new float[k * c * kh * kw];
        for (var o = 0; o < k; o++)
        {
            for (var ic = 0; ic < c; ic++)
            {
                for (var s = 0; s < kh * kw; s++) w[(o * c + ic) * kh * kw + s] = p[o * c + ic] * d[ic * kh * kw + s];
            }
        }
        return w;
    }

    /// <summary>A rank-R CP tensor W[k,c,i,j] = Σ_t a[k,t]·b[c,t]·h[i,t]·w[j,t].</summary>
    public static float[] Cp(int k, int c, int kh, int kw, int rank, int seed)
    {
        var a = TinyModels.Random(k * rank, seed);
        var b = TinyModels.Random(c * rank, seed + 1);
        var h = TinyModels.Random(kh * rank, seed + 2);
        var v = TinyModels.Random(kw * rank, seed + 3);
        var w = new float[k * c * kh * kw];
        for (var o = 0; o < k; o++)
        {
            for (var ic = 0; ic < c; ic++)
            {
                for (var i = 0; i < kh; i++)
                {
                    for (var j = 0; j < kw; j++)
                    {
                        double sum = 0;
                        for (var t = 0; t < rank; t++) sum += a[o * rank + t] * b[ic * rank + t] * h[i * rank + t] * v[j * rank + t];
                        w[((o * c + ic) * kh + i) * kw + j] = (float)sum;
                    }
                }
            }
        }
        return w;
    }

    /// <summary>x[1, C, h, w] → Conv(W, bias; <paramref name="attributes"/>) → y, the conv named <c>y_node</c>.</summary>
    public static Model Conv(float[] weight, long[] dims, long[] input, params Attribute[] attributes)
    {
        var b = new GraphBuilder();
        var x = b.Input("x", input);
        var y = b.Op(OpTypes.Conv, [x, b.Constant("w", dims, weight), b.Weight("bias", 99, dims[0])], "y", attributes);
        return b.Outputs(y).Build();
    }

    /// <summary>Conv geometry attributes: kernel, strides, pads (begin h, begin w, end h, end w), dilations.</summary>
    public static Attribute[] Geometry(long kh, long kw, long stride, long[] pads, long dilation) =>
    [
        Attribute.Ints(AttrNames.KernelShape, kh, kw),
        Attribute.Ints(AttrNames.Strides, stride, stride),
        Attribute.Ints(AttrNames.Pads, pads),
        Attribute.Ints(AttrNames.Dilations, dilation, dilation),
    ];
}
