using MathNet.Numerics.LinearAlgebra;

namespace EdgeOpt.Passes.Factorization;

/// <summary>
/// Mode unfoldings and mode products of dense row-major tensors held as <c>double[]</c> with their dims (the Kolda–Bader
/// operations behind HOSVD, HOOI and CP-ALS). The mode-n unfolding has one row per index of mode n; its columns run over the
/// other modes in increasing order, the last one fastest.
/// </summary>
internal static class Unfolding
{
    /// <summary>The mode-<paramref name="mode"/> unfolding: dims[mode] × (product of the other dims).</summary>
    public static Matrix<double> Unfold(double[] t, IReadOnlyList<int> dims, int mode)
    {
        var (outer, n, inner) = Split(dims, mode);
        var m = Matrix<double>.Build.Dense(n, outer * inner);
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < n; i++)
            {
                var src = (o * n + i) * inner;
                for (var k = 0; k < inner; k++) m[i, o * inner + k] = t[src + k];
            }
        }
        return m;
    }

    /// <summary>The inverse of <see cref="Unfold"/>: a tensor of <paramref name="dims"/> from its mode-<paramref name="mode"/> unfolding.</summary>
    public static double[] Fold(Matrix<double> m, IReadOnlyList<int> dims, int mode)
    {
        var (outer, n, inner) = Split(dims, mode);
        var t = new double[outer * n * inner];
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < n; i++)
            {
                var dst = (o * n + i) * inner;
                for (var k = 0; k < inner; k++) t[dst + k] = m[i, o * inner + k];
            }
        }
        return t;
    }

    /// <summary>t ×_mode M: mode <paramref name="mode"/> (size dims[mode]) mapped by <paramref name="m"/> (rows × dims[mode]); the new dims are returned too.</summary>
    public static (double[] Tensor, int[] Dims) ModeProduct(double[] t, IReadOnlyList<int> dims, int mode, Matrix<double> m)
    {
        var result = m.Multiply(Unfold(t, dims, mode));
        var newDims = dims.ToArray();
        newDims[mode] = m.RowCount;
        return (Fold(result, newDims, mode), newDims);
    }

    /// <summary>‖a − b‖_F / ‖a‖_F (0 when a is all zero and b equals it).</summary>
    public static double RelativeError(double[] a, double[] b)
    {
        double diff = 0, norm = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = a[i] - b[i];
            diff += d * d;
            norm += a[i] * a[i];
        }
        return norm == 0 ? (diff == 0 ? 0 : double.PositiveInfinity) : Math.Sqrt(diff / norm);
    }

    /// <summary>Σ x².</summary>
    public static double SquaredNorm(double[] t)
    {
        var sum = 0.0;
        foreach (var x in t) sum += x * x;
        return sum;
    }

    private static (int Outer, int Count, int Inner) Split(IReadOnlyList<int> dims, int mode)
    {
        int outer = 1, inner = 1;
        for (var i = 0; i < mode; i++) outer *= dims[i];
        for (var i = mode + 1; i < dims.Count; i++) inner *= dims[i];
        return (outer, dims[mode], inner);
    }
}
