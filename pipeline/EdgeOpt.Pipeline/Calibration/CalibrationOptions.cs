using System.Globalization;
using EdgeOpt.Pipeline.Execution;

namespace EdgeOpt.Pipeline.Calibration;

/// <summary>How calibration turns the values a tensor took into the range it is quantized over.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen (ONNX Runtime's default). Outliers widen the range.</summary>
    MinMax,

    /// <summary>Cuts the given percentile off the histogram's tails, so rare outliers are clipped.</summary>
    Percentile,

    /// <summary>The |x| threshold whose 8-bit version of the distribution is closest in KL divergence (TensorRT's method).</summary>
    Entropy,

    /// <summary>The range whose 8-bit quantization has the least mean squared error over the histogram.</summary>
    Mse,
}

/// <summary>The names of <see cref="CalibrationMethod"/> on the command line and in reports.</summary>
public static class CalibrationMethods
{
    /// <summary>Every method, in the order the command line lists them.</summary>
    public static IReadOnlyList<CalibrationMethod> All { get; } = [CalibrationMethod.MinMax, CalibrationMethod.Percentile, CalibrationMethod.Entropy, CalibrationMethod.Mse];

    /// <summary>The stable public name: minmax, percentile, entropy, mse.</summary>
    public static string Name(CalibrationMethod method) => method switch
    {
        CalibrationMethod.MinMax => "minmax",
        CalibrationMethod.Percentile => "percentile",
        CalibrationMethod.Entropy => "entropy",
        CalibrationMethod.Mse => "mse",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
    };

    /// <summary>Parses a method name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Another word; the message lists the names.</exception>
    public static CalibrationMethod Parse(string text)
    {
        foreach (var m in All)
        {
            if (string.Equals(Name(m), text.Trim(), StringComparison.OrdinalIgnoreCase)) return m;
        }
        throw new ArgumentException($"unknown calibration method '{text}': use {string.Join(", ", All.Select(Name))}");
    }

    /// <summary>Whether the method needs a histogram per tensor (all but minmax).</summary>
    public static bool NeedsHistogram(CalibrationMethod method) => method != CalibrationMethod.MinMax;
}

/// <summary>Progress of a calibration run: samples done, out of <see cref="Total"/> (0 when the source does not know).</summary>
public readonly record struct CalibrationProgress(int Done, int Total, string Sample);

/// <summary>Options of <see cref="Calibrator"/>; <see cref="Validate"/> lists what is wrong with them.</summary>
public sealed record CalibrationOptions
{
    /// <summary>How a tensor's range is chosen from what it took (default minmax, as ONNX Runtime).</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;

    /// <summary>Histogram bins per tensor for percentile, entropy and mse; memory is this many counters per tensor, whatever the sample count.</summary>
    public int Bins { get; init; } = HistogramCollector.DefaultBins;

    /// <summary>Percent of the values the percentile method keeps inside the range (the rest is cut off the tails).</summary>
    public double Percentile { get; init; } = 99.999;

    /// <summary>Percentile and mse: one threshold on |x| for both sides instead of one per side (entropy is always symmetric).</summary>
    public bool Symmetric { get; init; }

    /// <summary>Entropy: quantized levels per side the distribution is compared at (128 for int8, as TensorRT).</summary>
    public int QuantizedLevels { get; init; } = 128;

    /// <summary>Stop after this many samples; null reads the whole source.</summary>
    public int? MaxSamples { get; init; }

    /// <summary>How ONNX Runtime runs the augmented model (library, EP, threads, optimization level).</summary>
    public RuntimeSettings Settings { get; init; } = new();

    /// <summary>Which tensors get a range (default: graph inputs and every float activation).</summary>
    public TensorSelector Selector { get; init; } = TensorSelector.Activations;

    /// <summary>The method's name plus the parameters that matter to it, for reports (e.g. <c>percentile 99.999</c>).</summary>
    public string Describe() => Method switch
    {
        CalibrationMethod.MinMax => "minmax",
        CalibrationMethod.Percentile => $"percentile {Percentile.ToString("G", CultureInfo.InvariantCulture)}{(Symmetric ? " symmetric" : "")}, {Bins} bins",
        CalibrationMethod.Entropy => $"entropy, {Bins} bins, {QuantizedLevels} levels",
        CalibrationMethod.Mse => $"mse{(Symmetric ? " symmetric" : "")}, {Bins} bins",
        _ => CalibrationMethods.Name(Method),
    };

    /// <summary>Every problem with these options, as a message naming the option and a valid value.</summary>
    public IEnumerable<string> Validate()
    {
        if (!Enum.IsDefined(Method)) yield return $"method {(int)Method} is not one of {string.Join(", ", CalibrationMethods.All.Select(CalibrationMethods.Name))}";
        if (Bins is < HistogramCollector.MinBins or > HistogramCollector.MaxBins)
        {
            yield return $"bins must be between {HistogramCollector.MinBins} and {HistogramCollector.MaxBins} (got {Bins}); 2048 is the usual choice";
        }
        if (!(Percentile > 0 && Percentile <= 100)) yield return $"percentile must be in (0, 100] (got {Percentile.ToString(CultureInfo.InvariantCulture)}); 99.999 is the usual choice";
        if (QuantizedLevels is < 2 or > 32768) yield return $"quantized levels must be between 2 and 32768 (got {QuantizedLevels}); 128 suits int8";
        if (Method == CalibrationMethod.Entropy && QuantizedLevels > Bins) yield return $"entropy needs at least as many bins ({Bins}) as quantized levels ({QuantizedLevels})";
        if (MaxSamples is <= 0) yield return $"max samples must be positive (got {MaxSamples})";
        if (Selector is null) yield return "a tensor selector is required (TensorSelector.Activations selects every float activation)";
        if (Settings is null) yield return "runtime settings are required";
    }

    /// <summary>Throws one exception listing every problem.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public void ThrowIfInvalid()
    {
        var problems = Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException($"invalid calibration options: {string.Join("; ", problems)}");
    }
}
