using System.Diagnostics;
using System.Runtime.ExceptionServices;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;

namespace EdgeOpt.Pipeline.Calibration;

/// <summary>
/// What calibration saw, per observed tensor, before a method turns it into ranges: the histograms serve every
/// method, so one pass over the data can yield the tables of several (<see cref="ToTable"/>).
/// </summary>
public sealed class CalibrationStatistics
{
    internal CalibrationStatistics(int samples, IReadOnlyList<string> tensors, IReadOnlyDictionary<string, RangeCollector> collectors, TimeSpan elapsed)
    {
        Samples = samples;
        Tensors = tensors;
        Collectors = collectors;
        Elapsed = elapsed;
    }

    /// <summary>Samples that went through the model.</summary>
    public int Samples { get; }

    /// <summary>The observed tensors, in selection order.</summary>
    public IReadOnlyList<string> Tensors { get; }

    /// <summary>The statistics of each observed tensor.</summary>
    public IReadOnlyDictionary<string, RangeCollector> Collectors { get; }

    /// <summary>Wall time of the pass over the samples (session creation included).</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Tensors that held no finite value in any sample (empty, or NaN/∞ only): they get no range.</summary>
    public IReadOnlyList<string> Unobserved => [.. Tensors.Where(t => Collectors[t].Count == 0)];

    /// <summary>NaN and infinite values seen, per tensor that had any (they are left out of every range).</summary>
    public IReadOnlyDictionary<string, long> NonFinite => Tensors.Where(t => Collectors[t].NonFinite > 0).ToDictionary(t => t, t => Collectors[t].NonFinite);

    /// <summary>The table for <paramref name="options"/>' method (tensors computed in parallel, deterministic order).</summary>
    /// <exception cref="InvalidOperationException">The method needs histograms and these statistics were collected for minmax.</exception>
    public CalibrationTable ToTable(CalibrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        var ranges = new TensorRange?[Tensors.Count];
        Calibrator.InParallel(Tensors.Count, CancellationToken.None, i => ranges[i] = Collectors[Tensors[i]].Range(options));
        var table = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        for (var i = 0; i < Tensors.Count; i++)
        {
            if (ranges[i] is { } r) table[Tensors[i]] = r;
        }
        return new CalibrationTable(CalibrationMethods.Name(options.Method), Samples, table);
    }
}

/// <summary>
/// Static-quantization calibration through ONNX Runtime: the model is copied with the observed activations added to
/// its outputs, one session runs every sample, and each tensor's values stream into a collector of fixed size
/// (running min/max, or a histogram for percentile, entropy and mse), so memory does not grow with the sample count.
/// The result is the <see cref="CalibrationTable"/> the <c>quantize-static</c> pass reads. Deterministic: a
/// histogram depends only on the multiset of values it saw.
/// </summary>
public static class Calibrator
{
    /// <summary>Calibrates the model file at <paramref name="modelPath"/>.</summary>
    /// <inheritdoc cref="Run(Model, IEnumerable{Sample}, CalibrationOptions, IProgress{CalibrationProgress}?, CancellationToken)"/>
    public static CalibrationTable Run(string modelPath, IEnumerable<Sample> samples, CalibrationOptions options,
        IProgress<CalibrationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Collect(ModelReader.Read(modelPath), samples, options, progress, cancellationToken, copy: false).ToTable(options);

    /// <summary>Runs <paramref name="samples"/> through <paramref name="model"/> and returns the range of each selected tensor.</summary>
    /// <exception cref="ArgumentException">Invalid options, no samples, a sample that does not fit, or a selector naming a tensor that is not an activation.</exception>
    /// <exception cref="EdgeOpt.Runtime.OrtException">ONNX Runtime could not load or run the augmented model.</exception>
    public static CalibrationTable Run(Model model, IEnumerable<Sample> samples, CalibrationOptions options,
        IProgress<CalibrationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Collect(model, samples, options, progress, cancellationToken).ToTable(options);

    /// <summary>
    /// The statistics behind <see cref="Run(Model, IEnumerable{Sample}, CalibrationOptions, IProgress{CalibrationProgress}?, CancellationToken)"/>:
    /// histograms when <paramref name="options"/>' method needs them, so <see cref="CalibrationStatistics.ToTable"/> can
    /// then give any histogram method's table without running the model again. <paramref name="model"/> is not changed.
    /// </summary>
    public static CalibrationStatistics Collect(Model model, IEnumerable<Sample> samples, CalibrationOptions options,
        IProgress<CalibrationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Collect(model, samples, options, progress, cancellationToken, copy: true);

    private static CalibrationStatistics Collect(Model model, IEnumerable<Sample> samples, CalibrationOptions options,
        IProgress<CalibrationProgress>? progress, CancellationToken cancellationToken, bool copy)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        var clock = Stopwatch.StartNew();
        var augmented = copy ? ModelReader.Copy(model) : model;
        var selected = options.Selector.Select(augmented);
        if (selected.Count == 0)
        {
            throw new ArgumentException($"the tensor selector ({options.Selector.Description}) chose no tensors: the model has no float activations it accepts");
        }
        var outputs = ActivationOutputs.ExposeInPlace(augmented, selected);
        var inputs = selected.Where(s => s.Value.IsGraphInput).Select(s => s.Name).ToList();
        var names = selected.Select(s => s.Name).ToList();
        var collectors = names.ToDictionary(n => n, n => NewCollector(options), StringComparer.Ordinal);
        var total = Total(samples, options.MaxSamples);
        var done = 0;
        using (var runner = OrtModelRunner.Open(augmented, options.Settings))
        {
            foreach (var sample in samples)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var input in inputs) collectors[input].Add(Feed(sample, input));
                if (outputs.Count > 0) CollectOutputs(runner, sample, outputs, collectors, cancellationToken);
                done++;
                progress?.Report(new CalibrationProgress(done, total, sample.Source));
                if (done == options.MaxSamples) break;
            }
        }
        if (done == 0) throw new ArgumentException("no calibration samples: the data source is empty");
        return new CalibrationStatistics(done, names, collectors, clock.Elapsed);
    }

    /// <summary>Parallel.For that rethrows a single failure as itself rather than wrapped in an AggregateException.</summary>
    internal static void InParallel(int count, CancellationToken cancellationToken, Action<int> body)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    private static RangeCollector NewCollector(CalibrationOptions options) =>
        CalibrationMethods.NeedsHistogram(options.Method) ? new HistogramCollector(options.Bins) : new MinMaxCollector();

    private static void CollectOutputs(OrtModelRunner runner, Sample sample, IReadOnlyList<string> outputs,
        Dictionary<string, RangeCollector> collectors, CancellationToken cancellationToken)
    {
        using var results = RunSample(runner, sample, outputs);
        InParallel(outputs.Count, cancellationToken, i => Add(collectors[outputs[i]], results[i], outputs[i]));
    }

    /// <summary>Float outputs are read in place from ONNX Runtime's memory; other float types are converted first.</summary>
    private static void Add(RangeCollector collector, OrtValue value, string name)
    {
        if (value.IsTensor && value.ElementType == OnnxElementType.Float) collector.Add(value.GetTensorData<float>());
        else collector.Add(OrtTensors.ToTensor(value, name));
    }

    private static SessionOutputs RunSample(OrtModelRunner runner, Sample sample, IReadOnlyList<string> outputs)
    {
        try
        {
            return runner.RunNative(sample.Inputs, outputs);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"calibration sample '{sample.Source}': {e.Message}", e);
        }
    }

    private static Tensor Feed(Sample sample, string input) =>
        sample.Inputs.TryGetValue(input, out var tensor)
            ? tensor
            : throw new ArgumentException($"calibration sample '{sample.Source}' has no value for input '{input}'");

    private static int Total(IEnumerable<Sample> samples, int? max)
    {
        var count = samples switch
        {
            CalibrationSource s => s.Count,
            IReadOnlyCollection<Sample> c => c.Count,
            ICollection<Sample> c => c.Count,
            _ => 0,
        };
        return max is { } m && count > 0 ? Math.Min(count, m) : count;
    }
}
