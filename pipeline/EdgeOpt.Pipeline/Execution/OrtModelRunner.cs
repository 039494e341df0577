using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Runtime;

namespace EdgeOpt.Pipeline.Execution;

/// <summary>
/// One ONNX Runtime session over a model, run on IR tensors: the bridge the pipeline's verifier, calibration and
/// activation sources use. Not for timing (the benchmark keeps its own session): every run converts tensors.
/// </summary>
public sealed class OrtModelRunner : IDisposable
{
    private readonly InferenceSession _session;

    private OrtModelRunner(OrtLibrary library, InferenceSession session)
    {
        Library = library;
        _session = session;
    }

    /// <summary>The library the session runs on.</summary>
    public OrtLibrary Library { get; }

    /// <summary>The session's inputs, as ONNX Runtime reports them.</summary>
    public IReadOnlyList<ValueInfo> Inputs => _session.Inputs;

    /// <summary>The session's outputs, in model order.</summary>
    public IReadOnlyList<string> OutputNames => _session.OutputNames;

    /// <summary>A session over the model file at <paramref name="path"/>.</summary>
    public static OrtModelRunner Open(string path, RuntimeSettings settings) =>
        Create(settings, (library, options) => new InferenceSession(library, path, options));

    /// <summary>A session over an in-memory IR model (serialized once; external data must be embedded or reachable).</summary>
    public static OrtModelRunner Open(Model model, RuntimeSettings settings)
    {
        var bytes = ModelWriter.ToBytes(model);
        return Create(settings, (library, options) => new InferenceSession(library, bytes, options));
    }

    private static OrtModelRunner Create(RuntimeSettings settings, Func<OrtLibrary, SessionOptions, InferenceSession> open)
    {
        var library = settings.LoadLibrary();
        using var options = settings.CreateSessionOptions(library);
        return new OrtModelRunner(library, open(library, options));
    }

    /// <summary>Runs a sample and returns every output by name.</summary>
    public IReadOnlyDictionary<string, Tensor> Run(Sample sample) => Run(sample.Inputs, _session.OutputNames);

    /// <summary>Runs on <paramref name="inputs"/> (by input name) and returns the named outputs.</summary>
    /// <exception cref="ArgumentException">An input the model needs is missing.</exception>
    /// <exception cref="OrtException">ONNX Runtime rejected the inputs or failed the run.</exception>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputNames)
    {
        using var outputs = RunNative(inputs, outputNames);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var i = 0; i < outputNames.Count; i++) result[outputNames[i]] = OrtTensors.ToTensor(outputs[i], outputNames[i]);
        return result;
    }

    /// <summary>
    /// Runs on <paramref name="inputs"/> and returns ONNX Runtime's own output values, in <paramref name="outputNames"/>
    /// order, without copying them into IR tensors (for readers of large outputs, such as calibration). Dispose them.
    /// </summary>
    /// <exception cref="ArgumentException">An input the model needs is missing.</exception>
    /// <exception cref="OrtException">ONNX Runtime rejected the inputs or failed the run.</exception>
    public SessionOutputs RunNative(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string> outputNames)
    {
        var names = _session.InputNames;
        var values = OrtTensors.ToOrtValues(Library, names, inputs);
        try
        {
            return _session.Run(names, values, outputNames);
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    public void Dispose() => _session.Dispose();
}
