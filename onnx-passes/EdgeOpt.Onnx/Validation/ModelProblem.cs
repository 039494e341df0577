namespace EdgeOpt.Onnx.Validation;

/// <summary>One problem found in a model: where (graph/node) and what.</summary>
public sealed record ModelProblem(string Location, string Message)
{
    public override string ToString() => $"{Location}: {Message}";
}

/// <summary>A model that cannot be read or used; lists every problem found, and names the file.</summary>
public sealed class OnnxModelException : Exception
{
    public OnnxModelException(string source, IReadOnlyList<ModelProblem> problems, string? hint = null)
        : base(Format(source, problems, hint))
    {
        Source = source;
        Problems = problems;
    }

    public OnnxModelException(string source, string message, Exception? inner = null)
        : base($"{source}: {message}", inner)
    {
        Source = source;
        Problems = [new ModelProblem("model", message)];
    }

    /// <summary>The file (or stream description) the model came from.</summary>
    public new string Source { get; }

    public IReadOnlyList<ModelProblem> Problems { get; }

    private static string Format(string source, IReadOnlyList<ModelProblem> problems, string? hint)
    {
        var lines = problems.Take(50).Select(p => "  - " + p);
        var more = problems.Count > 50 ? $"\n  … and {problems.Count - 50} more" : "";
        var tail = hint == null ? "" : "\n" + hint;
        return $"{source} is not a valid ONNX model ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):\n{string.Join("\n", lines)}{more}{tail}";
    }
}
