using System.Numerics.Tensors;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Quantization;
using Tensor = EdgeOpt.Onnx.Ir.Tensor;

namespace EdgeOpt.Pipeline.Calibration;

/// <summary>
/// What one tensor took over the samples, kept in memory that does not grow with them: the count of finite values,
/// the running minimum and maximum, and (in <see cref="HistogramCollector"/>) a fixed-size histogram. NaN and
/// infinities are counted in <see cref="NonFinite"/> and left out of every statistic. Not thread-safe: the calibrator
/// feeds each collector from one thread at a time, so different tensors can be collected in parallel.
/// </summary>
public abstract class RangeCollector
{
    private const int Chunk = 1024;

    /// <summary>Finite values seen.</summary>
    public long Count { get; private set; }

    /// <summary>NaN and infinite values seen (not part of any statistic).</summary>
    public long NonFinite { get; private set; }

    /// <summary>The smallest finite value seen (+∞ before any).</summary>
    public float Min { get; private set; } = float.PositiveInfinity;

    /// <summary>The largest finite value seen (−∞ before any).</summary>
    public float Max { get; private set; } = float.NegativeInfinity;

    /// <summary>Adds the elements of a float, float16, bfloat16 or double tensor.</summary>
    /// <exception cref="ArgumentException">The tensor holds no floating-point data.</exception>
    public void Add(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        switch (tensor.DataType)
        {
            case TensorDataType.Float:
                Add(tensor.AsSpan<float>());
                break;
            case TensorDataType.Float16 or TensorDataType.BFloat16 or TensorDataType.Double:
                Add(tensor.ToSingles());
                break;
            default:
                throw new ArgumentException($"tensor '{tensor.Name}' is {TensorDataTypes.OnnxName(tensor.DataType)}; calibration collects floating-point tensors only");
        }
    }

    /// <summary>Adds a batch of values (any order; the statistics do not depend on how values are split into batches).</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return;
        var min = TensorPrimitives.Min(values);
        var max = TensorPrimitives.Max(values);
        if (float.IsFinite(min) && float.IsFinite(max))
        {
            Accept(values, min, max);
            return;
        }
        Span<float> finite = stackalloc float[Chunk];
        var n = 0;
        foreach (var v in values)
        {
            if (!float.IsFinite(v))
            {
                NonFinite++;
                continue;
            }
            finite[n++] = v;
            if (n == Chunk)
            {
                Accept(finite, TensorPrimitives.Min(finite), TensorPrimitives.Max(finite));
                n = 0;
            }
        }
        if (n > 0) Accept(finite[..n], TensorPrimitives.Min(finite[..n]), TensorPrimitives.Max(finite[..n]));
    }

    /// <summary>The range for <paramref name="options"/>' method; null when no finite value was seen.</summary>
    /// <exception cref="InvalidOperationException">The method needs a histogram this collector does not keep.</exception>
    public abstract TensorRange? Range(CalibrationOptions options);

    /// <summary>Folds <paramref name="other"/>'s counts and extremes into this collector's.</summary>
    protected void MergeStatistics(RangeCollector other)
    {
        Count += other.Count;
        NonFinite += other.NonFinite;
        Min = MathF.Min(Min, other.Min);
        Max = MathF.Max(Max, other.Max);
    }

    /// <summary>Called with finite values after <see cref="Min"/>, <see cref="Max"/> and <see cref="Count"/> include them.</summary>
    protected abstract void OnValues(ReadOnlySpan<float> values, float min, float max);

    private void Accept(ReadOnlySpan<float> values, float min, float max)
    {
        Count += values.Length;
        Min = MathF.Min(Min, min);
        Max = MathF.Max(Max, max);
        OnValues(values, min, max);
    }
}

/// <summary>Running minimum and maximum only: the minmax method, in constant memory.</summary>
public sealed class MinMaxCollector : RangeCollector
{
    /// <summary>[<see cref="RangeCollector.Min"/>, <see cref="RangeCollector.Max"/>]; null before any finite value.</summary>
    public override TensorRange? Range(CalibrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (CalibrationMethods.NeedsHistogram(options.Method))
        {
            throw new InvalidOperationException($"the {CalibrationMethods.Name(options.Method)} method needs histograms; these statistics were collected for minmax only");
        }
        return Count == 0 ? null : new TensorRange(Min, Max);
    }

    /// <summary>Folds another minmax collector in.</summary>
    public void Merge(MinMaxCollector other) => MergeStatistics(other);

    protected override void OnValues(ReadOnlySpan<float> values, float min, float max)
    {
    }
}
