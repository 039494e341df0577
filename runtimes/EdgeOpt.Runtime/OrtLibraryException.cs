namespace EdgeOpt.Runtime;

/// <summary>The ONNX Runtime library could not be used: missing, not loadable, or too old.</summary>
public class OrtLibraryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>No ONNX Runtime library was found or loadable; <see cref="TriedPaths"/> lists every candidate and why it failed.</summary>
public sealed class OrtLibraryNotFoundException(string message, IReadOnlyList<string> triedPaths)
    : OrtLibraryException(message)
{
    /// <summary>Each candidate tried, in order, with the reason it was not used.</summary>
    public IReadOnlyList<string> TriedPaths { get; } = triedPaths;
}
