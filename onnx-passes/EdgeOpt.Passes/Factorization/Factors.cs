using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using MathNet.Numerics.LinearAlgebra;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Factorization;

/// <summary>
/// Factors as they will be stored: rounded once to the weight's element type (so reported errors are those of the written
/// model), turned into tensors, and the convolution geometry they are wired with.
/// </summary>
internal static class Factors
{
    /// <summary><paramref name="values"/> rounded to <paramref name="type"/> and back (float, float16 or double).</summary>
    public static double[] Round(double[] values, TensorDataType type) => type switch
    {
        TensorDataType.Float => Array.ConvertAll(values, v => (double)(float)v),
        TensorDataType.Float16 => Array.ConvertAll(values, v => (double)(Half)v),
        _ => values,
    };

    /// <summary>The row-major elements of <paramref name="m"/> rounded to <paramref name="type"/>.</summary>
    public static double[] Round(Matrix<double> m, TensorDataType type) => Round(m.ToRowMajorArray(), type);

    /// <summary>A row-major matrix from row-major <paramref name="values"/>.</summary>
    public static Matrix<double> Matrix(double[] values, int rows, int cols) => Matrix<double>.Build.Dense(rows, cols, (i, j) => values[(long)i * cols + j]);

    /// <summary>A tensor of <paramref name="type"/> and <paramref name="dims"/> from already rounded row-major <paramref name="values"/>.</summary>
    public static Tensor Tensor(TensorDataType type, long[] dims, double[] values) => FloatTensors.Create("factor", type, dims, values);

    /// <summary>The largest rank r ≤ <paramref name="full"/> that is a multiple of <paramref name="multiple"/> and <paramref name="saves"/> (costs grow with r; 0 when none).</summary>
    public static int LargestSaving(int full, int multiple, Func<long, bool> saves)
    {
        var best = 0;
        for (var r = multiple; r <= full; r += multiple)
        {
            if (saves(r)) best = r;
            else break;
        }
        return best;
    }

    /// <summary>"(energy 91.2%)"-style report fragment.</summary>
    public static string EnergyNote(double kept, double total) => total > 0 ? $" (energy {100 * kept / total:0.0}%)" : "";
}

/// <summary>The spatial geometry of a Conv node: kernel, strides, explicit pads, dilations and auto_pad, with ONNX defaults.</summary>
internal sealed record ConvGeometry(long[] Kernel, long[] Strides, long[] Pads, long[] Dilations, string AutoPad)
{
    public const string NotSet = "NOTSET";

    public int SpatialRank => Kernel.Length;

    public static ConvGeometry Of(Node conv, long[] weightDims)
    {
        var k = weightDims.AsSpan(2).ToArray();
        var n = k.Length;
        return new ConvGeometry(
            k,
            conv.GetInts(AttrNames.Strides)?.ToArray() ?? Enumerable.Repeat(1L, n).ToArray(),
            conv.GetInts(AttrNames.Pads)?.ToArray() ?? new long[2 * n],
            conv.GetInts(AttrNames.Dilations)?.ToArray() ?? Enumerable.Repeat(1L, n).ToArray(),
            conv.GetString(AttrNames.AutoPad, NotSet));
    }

    /// <summary>The attributes of the original conv (group 1 implied).</summary>
    public IEnumerable<Attribute> Attributes() => With(Kernel, Strides, Pads, Dilations);

    /// <summary>
    /// The attributes of a conv that applies only axis <paramref name="axis"/> of this geometry (kernel 1, stride 1, no pads on the
    /// other axes), as used by the separable schemes; auto_pad carries over since SAME padding is computed per axis.
    /// </summary>
    public IEnumerable<Attribute> AlongAxis(int axis)
    {
        var n = SpatialRank;
        long Pick(long[] v, int i, long other) => i == axis ? v[i] : other;
        var kernel = Enumerable.Range(0, n).Select(i => Pick(Kernel, i, 1)).ToArray();
        var strides = Enumerable.Range(0, n).Select(i => Pick(Strides, i, 1)).ToArray();
        var dilations = Enumerable.Range(0, n).Select(i => Pick(Dilations, i, 1)).ToArray();
        var pads = Enumerable.Range(0, 2 * n).Select(i => i % n == axis ? Pads[i] : 0).ToArray();
        return With(kernel, strides, pads, dilations);
    }

    private IEnumerable<Attribute> With(long[] kernel, long[] strides, long[] pads, long[] dilations)
    {
        yield return Attribute.Ints(AttrNames.KernelShape, kernel);
        yield return Attribute.Ints(AttrNames.Strides, strides);
        if (AutoPad == NotSet) yield return Attribute.Ints(AttrNames.Pads, pads);
        else yield return Attribute.String(AttrNames.AutoPad, AutoPad);
        yield return Attribute.Ints(AttrNames.Dilations, dilations);
    }

    /// <summary>Attributes of a 1×…×1 conv of stride 1 (no padding).</summary>
    public static IEnumerable<Attribute> Pointwise(int spatialRank) =>
        [Attribute.Ints(AttrNames.KernelShape, Enumerable.Repeat(1L, spatialRank))];
}
