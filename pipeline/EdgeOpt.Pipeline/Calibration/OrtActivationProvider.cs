using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;

namespace EdgeOpt.Pipeline.Calibration;

/// <summary>
/// The <see cref="IActivationProvider"/> the pipeline hands to the pruning repairs: for each call it exposes the requested
/// tensors as extra outputs of a copy of the model (<see cref="ActivationOutputs.Expose"/>), opens one ONNX Runtime session
/// and streams the samples of <paramref name="samples"/> (opened for the model as the passes left it) through it, one at a
/// time, at most <paramref name="maxSamples"/>. Requested graph inputs come from the sample itself. Only the current sample's
/// activations are held.
/// </summary>
public sealed class OrtActivationProvider(Func<Model, IEnumerable<Sample>> samples, RuntimeSettings settings, int? maxSamples = null) : IActivationProvider
{
    /// <summary>Model runs so far (one per sample per call).</summary>
    public int Runs { get; private set; }

    public IEnumerable<ActivationSample> Stream(Model model, IReadOnlyList<string> tensors, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        if (maxSamples is < 1) throw new ArgumentException($"the sample limit must be at least 1, not {maxSamples}");
        return Iterate(model, tensors, cancellation);
    }

    private IEnumerable<ActivationSample> Iterate(Model model, IReadOnlyList<string> tensors, CancellationToken cancellation)
    {
        var inputs = tensors.Where(t => model.Graph.Inputs.Any(i => i.Name == t && !i.IsInitializer)).ToHashSet(StringComparer.Ordinal);
        var outputs = tensors.Where(t => !inputs.Contains(t)).Distinct(StringComparer.Ordinal).ToList();
        var exposed = ActivationOutputs.Expose(model, outputs);
        var source = samples(model);
        using var runner = OrtModelRunner.Open(exposed, settings);
        var done = 0;
        foreach (var sample in source)
        {
            cancellation.ThrowIfCancellationRequested();
            if (done == maxSamples) yield break;
            var result = new Dictionary<string, ActivationTensor>(StringComparer.Ordinal);
            foreach (var name in inputs)
            {
                var tensor = sample.Inputs.TryGetValue(name, out var t) ? t : throw new ArgumentException($"sample '{sample.Source}' has no value for input '{name}'");
                result[name] = new ActivationTensor(tensor.DimsArray(), tensor.ToSingles());
            }
            if (outputs.Count > 0) Read(runner, sample, outputs, result);
            Runs++;
            done++;
            yield return new ActivationSample(sample.Source, result);
        }
    }

    private static void Read(OrtModelRunner runner, Sample sample, IReadOnlyList<string> outputs, Dictionary<string, ActivationTensor> result)
    {
        SessionOutputs values;
        try
        {
            values = runner.RunNative(sample.Inputs, outputs);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"calibration sample '{sample.Source}': {e.Message}", e);
        }
        using (values)
        {
            for (var i = 0; i < outputs.Count; i++)
            {
                var value = values[i];
                var data = value.IsTensor && value.ElementType == OnnxElementType.Float
                    ? value.ToArray<float>()
                    : OrtTensors.ToTensor(value, outputs[i]).ToSingles();
                result[outputs[i]] = new ActivationTensor([.. value.Shape], data);
            }
        }
    }
}
