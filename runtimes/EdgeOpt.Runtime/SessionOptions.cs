using EdgeOpt.Runtime.Native;

namespace EdgeOpt.Runtime;

/// <summary>
/// How an <see cref="InferenceSession"/> is created: threads, execution mode, graph optimization level, profiling,
/// free dimension overrides, configuration entries and execution providers. Each setting is applied to the native
/// options at once (an invalid one throws there); the values set are kept for reports. Not thread-safe.
/// </summary>
public sealed unsafe class SessionOptions : IDisposable
{
    private readonly SessionOptionsHandle _handle;
    private readonly List<ExecutionProviderInfo> _providers = [];
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _providerOptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _dimsByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _dimsByDenotation = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _config = new(StringComparer.Ordinal);
    private int _intraOpThreads;
    private int _interOpThreads;
    private ExecutionMode _executionMode = ExecutionMode.Sequential;
    private GraphOptimizationLevel _graphOptimizationLevel = GraphOptimizationLevel.All;
    private string? _optimizedModelPath;
    private string? _profilingPrefix;
    private OrtLoggingLevel? _logSeverity;

    /// <summary>
    /// Default options (ONNX Runtime's defaults: all graph optimizations, sequential, default thread counts). Creates the
    /// library's environment if it does not exist yet: appending execution providers needs its logger.
    /// </summary>
    public SessionOptions(OrtLibrary library)
    {
        ArgumentNullException.ThrowIfNull(library);
        Library = library;
        _ = library.Environment;
        var api = library.Api;
        _handle = new SessionOptionsHandle(api);
        nint p;
        api.Check(api.CreateSessionOptions(&p));
        _handle.Attach(p);
    }

    /// <summary>The library these options belong to; a session must be created from the same one.</summary>
    public OrtLibrary Library { get; }

    /// <summary>Threads used inside one node (0: ONNX Runtime's default, one per physical core).</summary>
    public int IntraOpThreads
    {
        get => _intraOpThreads;
        set => Apply(ref _intraOpThreads, NonNegative(value), (h, v) => Api.SetIntraOpNumThreads(h, v));
    }

    /// <summary>Threads used to run independent nodes at once in <see cref="ExecutionMode.Parallel"/> (0: default).</summary>
    public int InterOpThreads
    {
        get => _interOpThreads;
        set => Apply(ref _interOpThreads, NonNegative(value), (h, v) => Api.SetInterOpNumThreads(h, v));
    }

    /// <summary>Sequential (default) or parallel execution of independent nodes.</summary>
    public ExecutionMode ExecutionMode
    {
        get => _executionMode;
        set => Apply(ref _executionMode, value, (h, v) => Api.SetSessionExecutionMode(h, (int)v));
    }

    /// <summary>ONNX Runtime's own graph rewrites at session creation (default <see cref="GraphOptimizationLevel.All"/>).</summary>
    public GraphOptimizationLevel GraphOptimizationLevel
    {
        get => _graphOptimizationLevel;
        set => Apply(ref _graphOptimizationLevel, value, (h, v) => Api.SetSessionGraphOptimizationLevel(h, (int)v));
    }

    /// <summary>Where ONNX Runtime writes the model after its graph optimizations (null: not written).</summary>
    public string? OptimizedModelPath
    {
        get => _optimizedModelPath;
        set
        {
            ArgumentException.ThrowIfNullOrEmpty(value);
            var full = Path.GetFullPath(value);
            using var lease = _handle.Use();
            fixed (byte* p = Utf8.PlatformPath(full)) Api.Check(Api.SetOptimizedModelFilePath(lease.Pointer, p));
            _optimizedModelPath = full;
        }
    }

    /// <summary>
    /// Profiling: when set, ONNX Runtime records every node execution to <c>PREFIX_&lt;timestamp&gt;.json</c>, whose path
    /// <see cref="InferenceSession.EndProfiling"/> returns; null turns profiling off.
    /// </summary>
    public string? ProfilingPrefix
    {
        get => _profilingPrefix;
        set
        {
            using var lease = _handle.Use();
            if (value == null)
            {
                Api.Check(Api.DisableProfiling(lease.Pointer));
            }
            else
            {
                fixed (byte* p = Utf8.PlatformPath(value)) Api.Check(Api.EnableProfiling(lease.Pointer, p));
            }
            _profilingPrefix = value;
        }
    }

    /// <summary>This session's log severity (null: the environment's, see <see cref="OrtLibrary.LogLevel"/>).</summary>
    public OrtLoggingLevel? LogSeverity
    {
        get => _logSeverity;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            using var lease = _handle.Use();
            Api.Check(Api.SetSessionLogSeverityLevel(lease.Pointer, (int)value.Value));
            _logSeverity = value;
        }
    }

    /// <summary>
    /// Forbids ONNX Runtime from placing nodes the appended providers cannot run on the CPU provider: session creation
    /// fails instead (config entry <c>session.disable_cpu_ep_fallback</c>).
    /// </summary>
    public bool DisableCpuFallback
    {
        get => _config.TryGetValue(ConfigKeys.DisableCpuFallback, out var v) && v == "1";
        set => AddConfigEntry(ConfigKeys.DisableCpuFallback, value ? "1" : "0");
    }

    /// <summary>The providers appended so far, in order of preference (ONNX Runtime adds the CPU provider last by itself).</summary>
    public IReadOnlyList<ExecutionProviderInfo> ExecutionProviders => _providers;

    /// <summary>The options each appended provider was given, by full provider name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ExecutionProviderOptions => _providerOptions;

    /// <summary>Symbolic dimensions fixed by name (<see cref="AddFreeDimensionOverrideByName"/>).</summary>
    public IReadOnlyDictionary<string, long> FreeDimensionOverridesByName => _dimsByName;

    /// <summary>Dimensions fixed by denotation (<see cref="AddFreeDimensionOverrideByDenotation"/>).</summary>
    public IReadOnlyDictionary<string, long> FreeDimensionOverridesByDenotation => _dimsByDenotation;

    /// <summary>Session configuration entries set so far.</summary>
    public IReadOnlyDictionary<string, string> ConfigEntries => _config;

    internal SessionOptionsHandle Handle => _handle;

    private OrtApi Api => Library.Api;

    /// <summary>
    /// Fixes the symbolic dimension <paramref name="name"/> (a <c>dim_param</c> such as <c>batch</c>) to
    /// <paramref name="value"/>, so ONNX Runtime can plan memory and optimize for it.
    /// </summary>
    public void AddFreeDimensionOverrideByName(string name, long value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var lease = _handle.Use();
        fixed (byte* p = Utf8.NullTerminated(name)) Api.Check(Api.AddFreeDimensionOverrideByName(lease.Pointer, p, value));
        _dimsByName[name] = value;
    }

    /// <summary>Fixes every dimension whose denotation is <paramref name="denotation"/> (e.g. <c>DATA_BATCH</c>).</summary>
    public void AddFreeDimensionOverrideByDenotation(string denotation, long value)
    {
        ArgumentException.ThrowIfNullOrEmpty(denotation);
        using var lease = _handle.Use();
        fixed (byte* p = Utf8.NullTerminated(denotation)) Api.Check(Api.AddFreeDimensionOverride(lease.Pointer, p, value));
        _dimsByDenotation[denotation] = value;
    }

    /// <summary>Sets a session configuration entry (keys as in ONNX Runtime's onnxruntime_session_options_config_keys.h).</summary>
    public void AddConfigEntry(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        using var lease = _handle.Use();
        fixed (byte* k = Utf8.NullTerminated(key))
        fixed (byte* v = Utf8.NullTerminated(value))
        {
            Api.Check(Api.AddSessionConfigEntry(lease.Pointer, k, v));
        }
        _config[key] = value;
    }

    /// <summary>
    /// Appends an execution provider by friendly name (<c>cpu</c>, <c>cuda</c>, <c>tensorrt</c>, <c>xnnpack</c>,
    /// <c>openvino</c>, …) or full name (<c>CUDAExecutionProvider</c>), with string options. Providers are preferred in
    /// the order appended. See <see cref="Runtime.ExecutionProviders"/>.
    /// </summary>
    /// <exception cref="ExecutionProviderException">The library does not have that provider; the message lists what it has.</exception>
    /// <exception cref="OrtException">ONNX Runtime refused the provider or one of its options.</exception>
    public void AppendExecutionProvider(string name, IReadOnlyDictionary<string, string>? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var copy = new Dictionary<string, string>(options ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        var info = Runtime.ExecutionProviders.Append(Library, _handle, name, copy);
        _providers.Add(info);
        _providerOptions[info.ProviderName] = copy;
    }

    /// <summary>Releases the native options (sessions created from them are not affected).</summary>
    public void Dispose() => _handle.Dispose();

    private static int NonNegative(int value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return value;
    }

    private void Apply<T>(ref T field, T value, Func<nint, T, nint> set)
    {
        using var lease = _handle.Use();
        Api.Check(set(lease.Pointer, value));
        field = value;
    }

    /// <summary>Session configuration keys this binding sets.</summary>
    public static class ConfigKeys
    {
        /// <summary>"1" makes session creation fail rather than fall back to the CPU provider.</summary>
        public const string DisableCpuFallback = "session.disable_cpu_ep_fallback";
    }
}
