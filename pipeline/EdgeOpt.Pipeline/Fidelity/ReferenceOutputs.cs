using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;

namespace EdgeOpt.Pipeline.Fidelity;

/// <summary>
/// A reference model's outputs on a fixed list of samples, run once, so that many candidates (every node of an accuracy search,
/// every layer × ratio of a sensitivity analysis, every variant of a comparison) are compared against them without rerunning it.
/// </summary>
public sealed class ReferenceOutputs
{
    private readonly Dictionary<Sample, IReadOnlyDictionary<string, Tensor>> _outputs = new(ReferenceEqualityComparer.Instance);

    private ReferenceOutputs(IReadOnlyList<Sample> samples) => Samples = samples;

    /// <summary>The samples, in order.</summary>
    public IReadOnlyList<Sample> Samples { get; }

    /// <summary>The reference's outputs on <paramref name="sample"/> (one of <see cref="Samples"/>).</summary>
    public IReadOnlyDictionary<string, Tensor> this[Sample sample] => _outputs[sample];

    /// <summary>Runs <paramref name="reference"/> on every sample.</summary>
    public static ReferenceOutputs Run(OrtModelRunner reference, IReadOnlyList<Sample> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("no samples to compare on");
        var result = new ReferenceOutputs(samples);
        foreach (var sample in samples) result._outputs[sample] = reference.Run(sample);
        return result;
    }

    /// <summary>Runs the in-memory <paramref name="reference"/> model on every sample.</summary>
    public static ReferenceOutputs Run(Model reference, IReadOnlyList<Sample> samples, RuntimeSettings settings)
    {
        using var runner = OrtModelRunner.Open(reference, settings);
        return Run(runner, samples);
    }

    /// <summary>Runs the reference model file at <paramref name="path"/> on every sample.</summary>
    public static ReferenceOutputs Run(string path, IReadOnlyList<Sample> samples, RuntimeSettings settings)
    {
        using var runner = OrtModelRunner.Open(path, settings);
        return Run(runner, samples);
    }

    /// <summary>Compares a candidate, given as a function from sample to outputs, on every sample.</summary>
    public VerifyReport Compare(Func<Sample, IReadOnlyDictionary<string, Tensor>> candidate) => Verifier.Compare(Samples, s => _outputs[s], candidate);

    /// <summary>Runs and compares the in-memory <paramref name="candidate"/> model.</summary>
    public VerifyReport Compare(Model candidate, RuntimeSettings settings)
    {
        using var runner = OrtModelRunner.Open(candidate, settings);
        return Compare(runner.Run);
    }

    /// <summary>Runs and compares the model file at <paramref name="path"/>.</summary>
    public VerifyReport Compare(string path, RuntimeSettings settings)
    {
        using var runner = OrtModelRunner.Open(path, settings);
        return Compare(runner.Run);
    }
}
