using System.Diagnostics;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Data;

namespace EdgeOpt.Pipeline.Calibration;

/// <summary>What one calibration run cost: method, samples, tensors, seconds and the process's peak memory during it.</summary>
public sealed record CalibrationRecord(string Method, int Samples, int Tensors, double Seconds, long PeakRssBytes);

/// <summary>
/// The <see cref="ICalibrationProvider"/> the pipeline hands to <c>quantize-static</c>: it streams the samples of
/// <paramref name="samples"/> (opened for the model as the passes left it) through ONNX Runtime with <see cref="Calibrator"/>,
/// observing exactly the tensors the pass asks for, and records what the run cost.
/// </summary>
public sealed class OrtCalibrationProvider(
    Func<Model, IEnumerable<Sample>> samples,
    CalibrationOptions options,
    IProgress<CalibrationProgress>? progress = null) : ICalibrationProvider
{
    private readonly List<CalibrationRecord> _runs = [];

    /// <summary>Every calibration this provider ran, in order.</summary>
    public IReadOnlyList<CalibrationRecord> Runs => _runs;

    public CalibrationTable Calibrate(Model model, IReadOnlyList<string> tensors, CancellationToken cancellation)
    {
        ProcessMemory.ResetPeak();
        var clock = Stopwatch.StartNew();
        var table = Calibrator.Run(model, samples(model), options with { Selector = TensorSelector.Named(tensors, requireAll: false) }, progress, cancellation);
        _runs.Add(new CalibrationRecord(table.Method, table.Samples, table.Ranges.Count, clock.Elapsed.TotalSeconds, ProcessMemory.PeakRssBytes()));
        return table;
    }
}
