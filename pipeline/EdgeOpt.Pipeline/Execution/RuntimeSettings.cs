using EdgeOpt.Runtime;

namespace EdgeOpt.Pipeline.Execution;

/// <summary>
/// How to open a model in ONNX Runtime: which library, which execution provider (with options), threads, graph
/// optimization level and fixed values for free dimensions.
/// </summary>
/// <param name="OrtLibraryPath">The library file or folder (<c>--ort-lib</c>); null searches the default places.</param>
/// <param name="ExecutionProvider">An EP name or alias (cpu, cuda, tensorrt, xnnpack, …); null or cpu runs on the CPU EP alone.</param>
/// <param name="ExecutionProviderOptions">Provider options, passed to ONNX Runtime as given.</param>
/// <param name="IntraOpThreads">Threads inside an operator; 0 lets ONNX Runtime choose.</param>
/// <param name="OptimizationLevel">ONNX Runtime's own graph optimizations.</param>
/// <param name="FreeDimensions">Values for named symbolic dimensions (e.g. batch=1).</param>
/// <param name="ThenProviders">Providers appended after <paramref name="ExecutionProvider"/>, in preference order (a target profile's
/// list, e.g. tensorrt then cuda): ONNX Runtime places each node on the first that takes it, the CPU EP last.</param>
public sealed record RuntimeSettings(
    string? OrtLibraryPath = null,
    string? ExecutionProvider = null,
    IReadOnlyDictionary<string, string>? ExecutionProviderOptions = null,
    int IntraOpThreads = 0,
    GraphOptimizationLevel OptimizationLevel = GraphOptimizationLevel.All,
    IReadOnlyDictionary<string, long>? FreeDimensions = null,
    IReadOnlyList<ProviderSpec>? ThenProviders = null)
{
    /// <summary>The library these settings name (loaded once per process).</summary>
    public OrtLibrary LoadLibrary() => OrtLibrary.Load(OrtLibraryPath);

    /// <summary>Whether the settings ask for the CPU EP only.</summary>
    public bool IsCpu => ExecutionProvider is null || ExecutionProviders.TryResolve(ExecutionProvider, out var info) && info.ProviderName == "CPUExecutionProvider";

    /// <summary>Session options for these settings; <paramref name="profilingPrefix"/> turns profiling on.</summary>
    /// <exception cref="ExecutionProviderException">The library lacks the EP, or the EP failed to start.</exception>
    public SessionOptions CreateSessionOptions(OrtLibrary library, string? profilingPrefix = null)
    {
        var options = new SessionOptions(library);
        try
        {
            options.IntraOpThreads = IntraOpThreads;
            options.GraphOptimizationLevel = OptimizationLevel;
            if (profilingPrefix is not null) options.ProfilingPrefix = profilingPrefix;
            foreach (var (name, value) in FreeDimensions ?? new Dictionary<string, long>()) options.AddFreeDimensionOverrideByName(name, value);
            if (!IsCpu)
            {
                options.AppendExecutionProvider(ExecutionProvider!, ExecutionProviderOptions);
            }
            foreach (var then in ThenProviders ?? [])
            {
                if (ExecutionProviders.TryResolve(then.Name, out var info) && info.ProviderName == "CPUExecutionProvider") continue;
                options.AppendExecutionProvider(then.Name, then.Options);
            }
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>"cuda", or "tensorrt>cuda>cpu" with providers after the first.</summary>
    public string ProviderLabel => ThenProviders is { Count: > 0 } then
        ? string.Join(">", then.Select(p => p.Name).Prepend(ExecutionProvider ?? "cpu"))
        : ExecutionProvider ?? "cpu";

    /// <summary>Parses disabled|basic|extended|all.</summary>
    /// <exception cref="ArgumentException">Another word.</exception>
    public static GraphOptimizationLevel ParseOptimizationLevel(string text) => text.Trim().ToLowerInvariant() switch
    {
        "disabled" or "none" or "off" => GraphOptimizationLevel.Disabled,
        "basic" => GraphOptimizationLevel.Basic,
        "extended" => GraphOptimizationLevel.Extended,
        "all" => GraphOptimizationLevel.All,
        _ => throw new ArgumentException($"unknown optimization level '{text}': use disabled, basic, extended or all"),
    };
}

/// <summary>An execution provider by name (cpu, cuda, tensorrt, xnnpack …) with the options ONNX Runtime gets for it.</summary>
public sealed record ProviderSpec(string Name, IReadOnlyDictionary<string, string>? Options = null);
