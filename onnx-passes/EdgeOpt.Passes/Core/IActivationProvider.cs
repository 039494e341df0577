using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Core;

/// <summary>
/// Streams intermediate activations of a model on sample data, one sample at a time, for passes that refit weights from
/// data (the pruning repairs). Passes never run models: the pipeline supplies one backed by ONNX Runtime. Callers
/// accumulate what they need per sample (e.g. Gram matrices), so memory does not grow with the number of samples.
/// </summary>
public interface IActivationProvider
{
    /// <summary>
    /// The values named <paramref name="tensors"/> (activations or graph inputs of <paramref name="model"/>'s main graph, as
    /// the model is now) for each sample, in the same sample order on every call. <paramref name="model"/> is not changed.
    /// </summary>
    /// <exception cref="ArgumentException">A name is not a floating-point value of the main graph, or a sample does not fit the model.</exception>
    IEnumerable<ActivationSample> Stream(Model model, IReadOnlyList<string> tensors, CancellationToken cancellation);
}

/// <summary>The activations of one sample, by value name, as float32.</summary>
/// <param name="Source">Where the sample came from (a file or folder), for messages.</param>
/// <param name="Tensors">The requested values by name.</param>
public sealed record ActivationSample(string Source, IReadOnlyDictionary<string, ActivationTensor> Tensors)
{
    /// <summary>The value named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">The provider did not return it.</exception>
    public ActivationTensor this[string name] => Tensors.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"sample '{Source}' has no activation '{name}'");
}

/// <summary>One activation: its shape and its elements, row-major.</summary>
public sealed record ActivationTensor(long[] Dims, float[] Data);
