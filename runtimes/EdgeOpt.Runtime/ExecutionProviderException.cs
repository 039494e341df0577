namespace EdgeOpt.Runtime;

/// <summary>
/// An execution provider was asked for that the loaded library cannot give: unknown name, not compiled in, its
/// provider library missing, or ONNX Runtime refused to enable it (then <see cref="Exception.InnerException"/> is the
/// <see cref="OrtException"/>). <see cref="AvailableProviders"/> lists what the library has.
/// </summary>
public sealed class ExecutionProviderException(string message, string requested, IReadOnlyList<string> availableProviders,
    Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The name the caller asked for.</summary>
    public string Requested { get; } = requested;

    /// <summary>The providers compiled into the loaded library (<c>GetAvailableProviders</c>).</summary>
    public IReadOnlyList<string> AvailableProviders { get; } = availableProviders;
}
