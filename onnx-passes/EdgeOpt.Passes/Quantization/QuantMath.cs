using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Quantization;

/// <summary>An 8-bit quantized element type.</summary>
public enum QuantType
{
    /// <summary>uint8 (activations: asymmetric, zero point anywhere in [0, 255]).</summary>
    U8,

    /// <summary>int8 (activations: symmetric, zero point 0; weights are always int8 symmetric).</summary>
    S8,
}

/// <summary>The integer codes a quantized tensor may hold: [<paramref name="Min"/>, <paramref name="Max"/>].</summary>
public readonly record struct QuantRange(int Min, int Max)
{
    /// <summary>The code for real zero under symmetric quantization: the middle of the range, rounded half to even (0 for int8, 128 for uint8).</summary>
    public int Middle => (int)Math.Round((Min + Max) / 2.0, MidpointRounding.ToEven);

    public override string ToString() => $"[{Min}, {Max}]";
}

/// <summary>Scale and zero point: real = (code − <paramref name="ZeroPoint"/>) · <paramref name="Scale"/>.</summary>
public readonly record struct QuantParams(float Scale, int ZeroPoint)
{
    public override string ToString() => $"scale {Scale:G6}, zero point {ZeroPoint}";
}

/// <summary>Symmetric int8 weights: codes, one scale per channel along <see cref="Axis"/> (or one scale when <see cref="Axis"/> is null), zero points 0.</summary>
public sealed record QuantizedWeights(sbyte[] Codes, long[] Dims, float[] Scales, int? Axis)
{
    public bool PerChannel => Axis != null;
}

/// <summary>
/// The quantization parameter math, in one place, following ONNX Runtime's quantization tool so that models agree with
/// what its kernels expect:
/// <list type="bullet">
/// <item>Code ranges: uint8 [0, 255] (reduce-range [0, 127]); int8 [−128, 127], symmetric [−127, 127], reduce-range [−64, 64]
/// (7 bits of magnitude, so u8·s8 pair sums cannot saturate int16 on CPUs without VNNI).</item>
/// <item>The real range is widened to hold 0 (zero must be exact: padding, ReLU). Symmetric: [−m, m] with m = max(|min|, |max|),
/// zero point = the middle code. Asymmetric: scale = (max − min)/(qmax − qmin), zero point = round(qmin − min/scale).</item>
/// <item>A degenerate range (max − min below the smallest normal float, e.g. min = max = 0) gets scale 1 and zero point 0
/// (the middle code when symmetric, so per-channel zero points stay equal).</item>
/// <item>Quantize: clamp(round(x / scale) + zero point) with rounding half to even, like QuantizeLinear.</item>
/// <item>Bias: int32 codes with scale = input scale × weight scale (per channel), zero point 0, clamped to int32.</item>
/// </list>
/// </summary>
public static class QuantMath
{
    /// <summary>The smallest positive normal float (numpy's finfo(float32).tiny): scales below it are degenerate.</summary>
    private const double SmallestNormalFloat = 1.1754943508222875e-38;

    /// <summary>The codes of <paramref name="type"/> (<paramref name="symmetric"/> drops −128 for int8; <paramref name="reduceRange"/> keeps 7 bits).</summary>
    public static QuantRange Codes(QuantType type, bool symmetric = false, bool reduceRange = false) => (type, reduceRange) switch
    {
        (QuantType.U8, false) => new(0, 255),
        (QuantType.U8, true) => new(0, 127),
        (QuantType.S8, true) => new(-64, 64),
        _ => symmetric ? new(-127, 127) : new(-128, 127),
    };

    /// <summary>Scale and zero point mapping [<paramref name="min"/>, <paramref name="max"/>] (widened to hold 0) onto <paramref name="codes"/>.</summary>
    /// <exception cref="ArgumentException">A bound is NaN or infinite, or min &gt; max.</exception>
    public static QuantParams Compute(float min, float max, QuantRange codes, bool symmetric)
    {
        if (!float.IsFinite(min) || !float.IsFinite(max)) throw new ArgumentException($"range [{min}, {max}] is not finite");
        if (min > max) throw new ArgumentException($"range [{min}, {max}] has min > max");
        double lo = Math.Min(min, 0f), hi = Math.Max(max, 0f);
        if (symmetric)
        {
            var m = Math.Max(-lo, hi);
            (lo, hi) = (-m, m);
        }
        var scale = (hi - lo) / (codes.Max - codes.Min);
        if (scale < SmallestNormalFloat)
        {
            return new QuantParams(1f, symmetric ? codes.Middle : Math.Clamp(0, codes.Min, codes.Max));
        }
        var zeroPoint = symmetric ? codes.Middle : (int)Math.Round(codes.Min - lo / scale, MidpointRounding.ToEven);
        return new QuantParams((float)scale, Math.Clamp(zeroPoint, codes.Min, codes.Max));
    }

    /// <summary>Parameters for <paramref name="range"/>.</summary>
    public static QuantParams Compute(TensorRange range, QuantRange codes, bool symmetric) => Compute(range.Min, range.Max, codes, symmetric);

    /// <summary>The code of <paramref name="x"/>: clamp(round_half_even(x / scale) + zero point, codes).</summary>
    public static int Quantize(float x, QuantParams p, QuantRange codes)
    {
        var q = MathF.Round(x / p.Scale, MidpointRounding.ToEven) + p.ZeroPoint;
        if (float.IsNaN(q)) return Math.Clamp(p.ZeroPoint, codes.Min, codes.Max);
        return q <= codes.Min ? codes.Min : q >= codes.Max ? codes.Max : (int)q;
    }

    /// <summary>The real value of <paramref name="code"/>.</summary>
    public static float Dequantize(int code, QuantParams p) => (code - p.ZeroPoint) * p.Scale;

    /// <summary>
    /// Symmetric int8 weights: one scale per slice along <paramref name="axis"/> (per channel), or one for the whole tensor
    /// when <paramref name="axis"/> is null. <paramref name="reduceRange"/> limits codes to [−64, 64].
    /// </summary>
    public static QuantizedWeights QuantizeWeights(ReadOnlySpan<float> values, long[] dims, int? axis, bool reduceRange)
    {
        var codes = Codes(QuantType.S8, symmetric: true, reduceRange);
        var (channels, inner) = axis is { } a ? ChannelLayout(dims, a) : (1L, (long)values.Length);
        var absMax = new float[channels];
        for (var i = 0; i < values.Length; i++)
        {
            var c = (int)(i / inner % channels);
            var v = values[i];
            if (!float.IsFinite(v)) throw new ArgumentException($"weight element {i} is {v}");
            absMax[c] = MathF.Max(absMax[c], MathF.Abs(v));
        }
        var p = new QuantParams[channels];
        for (var c = 0; c < channels; c++) p[c] = Compute(-absMax[c], absMax[c], codes, symmetric: true);
        var q = new sbyte[values.Length];
        for (var i = 0; i < values.Length; i++) q[i] = (sbyte)Quantize(values[i], p[(int)(i / inner % channels)], codes);
        return new QuantizedWeights(q, (long[])dims.Clone(), [.. p.Select(x => x.Scale)], axis);
    }

    /// <summary>
    /// Bias codes: round(b[c] / (<paramref name="inputScale"/> · weight scale[c])) clamped to int32, zero point 0.
    /// <paramref name="weightScales"/> has one entry (per tensor) or one per bias element. <paramref name="clamped"/> counts saturated elements.
    /// </summary>
    public static int[] QuantizeBias(ReadOnlySpan<float> bias, float inputScale, IReadOnlyList<float> weightScales, out float[] scales, out int clamped)
    {
        if (weightScales.Count != 1 && weightScales.Count != bias.Length)
        {
            throw new ArgumentException($"{weightScales.Count} weight scales for {bias.Length} bias elements");
        }
        scales = [.. weightScales.Select(s => inputScale * s)];
        var q = new int[bias.Length];
        clamped = 0;
        for (var i = 0; i < bias.Length; i++)
        {
            var s = scales[scales.Length == 1 ? 0 : i];
            var r = s > 0 ? Math.Round((double)bias[i] / s, MidpointRounding.ToEven) : 0;
            if (r > int.MaxValue || r < int.MinValue) clamped++;
            q[i] = (int)Math.Clamp(r, int.MinValue, int.MaxValue);
        }
        return q;
    }

    /// <summary>Codes for a whole tensor of activation-like data (e.g. a constant operand of Add) with one set of parameters.</summary>
    public static int[] QuantizeAll(ReadOnlySpan<float> values, QuantParams p, QuantRange codes)
    {
        var q = new int[values.Length];
        for (var i = 0; i < q.Length; i++) q[i] = Quantize(values[i], p, codes);
        return q;
    }

    /// <summary>The range of <paramref name="values"/> (empty: [0, 0]).</summary>
    public static TensorRange RangeOf(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return new TensorRange(0, 0);
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) continue;
            lo = MathF.Min(lo, v);
            hi = MathF.Max(hi, v);
        }
        return lo > hi ? new TensorRange(0, 0) : new TensorRange(lo, hi);
    }

    /// <summary>A tensor of <paramref name="type"/> holding <paramref name="codes"/>.</summary>
    public static Tensor ToTensor(string name, QuantType type, long[] dims, int[] codes) => type == QuantType.U8
        ? Tensor.Create(name, dims, Array.ConvertAll(codes, c => (byte)c))
        : Tensor.Create(name, dims, Array.ConvertAll(codes, c => (sbyte)c));

    /// <summary>A scalar zero point of <paramref name="type"/>.</summary>
    public static Tensor ZeroPointTensor(string name, QuantType type, int zeroPoint) => type == QuantType.U8
        ? Tensor.Scalar(name, (byte)zeroPoint)
        : Tensor.Scalar(name, (sbyte)zeroPoint);

    /// <summary>The ONNX element type of <paramref name="type"/>.</summary>
    public static TensorDataType ElementType(QuantType type) => type == QuantType.U8 ? TensorDataType.UInt8 : TensorDataType.Int8;

    /// <summary>Number of channels along <paramref name="axis"/> and elements per channel slice.</summary>
    private static (long Channels, long Inner) ChannelLayout(long[] dims, int axis)
    {
        if (axis < 0 || axis >= dims.Length) throw new ArgumentOutOfRangeException(nameof(axis), axis, $"axis out of range for rank {dims.Length}");
        var inner = 1L;
        for (var d = axis + 1; d < dims.Length; d++) inner *= dims[d];
        return (dims[axis], inner);
    }
}
