namespace EdgeOpt.Passes.Quantization;

/// <summary>The float range [<paramref name="Min"/>, <paramref name="Max"/>] a tensor's values are quantized over.</summary>
public readonly record struct TensorRange(float Min, float Max)
{
    /// <summary>The range widened to hold zero (quantized zero must be exact: padding, ReLU).</summary>
    public TensorRange WithZero() => new(MathF.Min(Min, 0f), MathF.Max(Max, 0f));

    public override string ToString() => $"[{Min:G6}, {Max:G6}]";
}

/// <summary>
/// What calibration found: for each activation tensor (by value name) the range to quantize it over. The pipeline
/// fills it by running the model on samples; <c>quantize-static</c> reads it. Keys are value names in the model
/// the table was computed on.
/// </summary>
/// <param name="Method">How the ranges were chosen (minmax, percentile, entropy, mse).</param>
/// <param name="Samples">How many samples went through.</param>
/// <param name="Ranges">Range per tensor name.</param>
public sealed record CalibrationTable(string Method, int Samples, IReadOnlyDictionary<string, TensorRange> Ranges)
{
    /// <summary>The range of <paramref name="tensor"/>, if calibration saw it.</summary>
    public bool TryGet(string tensor, out TensorRange range) => Ranges.TryGetValue(tensor, out range);
}
