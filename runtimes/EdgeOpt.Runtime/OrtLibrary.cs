using System.Globalization;
using System.Runtime.InteropServices;
using EdgeOpt.Runtime.Native;

namespace EdgeOpt.Runtime;

/// <summary>
/// A loaded ONNX Runtime native library: its version, the C API function table, the process-wide environment
/// (<c>OrtEnv</c>) and what execution providers it was built with. Each library file is loaded once per process;
/// <see cref="Load"/> returns the same instance for the same file. Thread-safe.
/// </summary>
/// <remarks>
/// Search order of <see cref="Load"/>: the path the caller gives (a file, or a folder holding
/// <c>libonnxruntime.so.1</c>/<c>libonnxruntime.so</c>), and nothing else when one is given; otherwise
/// <c>onnxruntime/&lt;rid&gt;/</c> beside the application, then <c>artifacts/onnxruntime/&lt;rid&gt;/</c> in the
/// application's folder and each folder above it, then the system loader.
/// </remarks>
public sealed unsafe class OrtLibrary
{
    /// <summary>The oldest C API version this binding accepts (ONNX Runtime 1.16).</summary>
    public const int MinimumApiVersion = 16;

    /// <summary>What to do when no library is found.</summary>
    public const string ProvisionHint =
        "Run `./build.sh --target=FetchAssets` to fetch ONNX Runtime into artifacts/onnxruntime/<rid>/, " +
        "or pass --ort-lib PATH (the libonnxruntime.so file, or the folder holding it).";

    private const string LogId = "edgeopt";
    private const int OrtArenaAllocator = 1;
    private const int OrtMemTypeDefault = 0;

    private static readonly object LoadGate = new();
    private static readonly Dictionary<string, OrtLibrary> Loaded = new(StringComparer.Ordinal);
    private static OrtLibrary? _searched;

    private readonly object _gate = new();
    private EnvHandle? _env;
    private MemoryInfoHandle? _cpuMemory;
    private OrtLoggingLevel _logLevel = OrtLoggingLevel.Error;

    private OrtLibrary(string path, string version, int apiVersion, OrtApi api)
    {
        Path = path;
        Version = version;
        ApiVersion = apiVersion;
        Api = api;
        AvailableProviders = QueryProviders(api);
        nint allocator;
        api.Check(api.GetAllocatorWithDefaultOptions(&allocator));
        DefaultAllocator = allocator;
    }

    /// <summary>The file that was loaded, or the name handed to the system loader.</summary>
    public string Path { get; }

    /// <summary>ONNX Runtime's version string, e.g. <c>1.30.0</c>.</summary>
    public string Version { get; }

    /// <summary>The C API version in use: the newest the library offers, at least <see cref="MinimumApiVersion"/>.</summary>
    public int ApiVersion { get; }

    /// <summary>
    /// The execution providers compiled into this library, e.g. <c>CPUExecutionProvider</c>. Provider-bridge EPs
    /// (CUDA, TensorRT, OpenVINO, DNNL, …) are listed even when their provider library is not installed; see
    /// <see cref="UsableProviders"/>.
    /// </summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    /// <summary>
    /// <see cref="AvailableProviders"/> without the provider-bridge EPs whose provider libraries are missing beside this
    /// library. A provider listed here can still fail to start (no GPU, no CUDA runtime): appending it says why.
    /// </summary>
    public IReadOnlyList<string> UsableProviders =>
    [
        .. AvailableProviders.Where(p => !ExecutionProviders.TryResolve(p, out var info)
                                         || ExecutionProviders.MissingProviderLibraries(info, this).Count == 0),
    ];

    /// <summary>
    /// The environment's log severity (default <see cref="OrtLoggingLevel.Error"/>: ONNX Runtime's warnings are
    /// dropped). Set it before the first session to apply from the start; setting it later updates the live environment.
    /// </summary>
    public OrtLoggingLevel LogLevel
    {
        get
        {
            lock (_gate) return _logLevel;
        }
        set
        {
            lock (_gate)
            {
                if (_env != null) Api.Check(Api.UpdateEnvWithCustomLogLevel(_env.Pointer, (int)value));
                _logLevel = value;
            }
        }
    }

    /// <summary>Whether the process-wide environment has been created (it is, by the first session).</summary>
    public bool IsEnvironmentCreated
    {
        get
        {
            lock (_gate) return _env != null;
        }
    }

    internal OrtApi Api { get; }

    /// <summary>ONNX Runtime's default CPU allocator (a static object: never released).</summary>
    internal nint DefaultAllocator { get; }

    /// <summary>The one <c>OrtEnv</c>, created on first use with <see cref="LogLevel"/>; kept for the process's life.</summary>
    internal EnvHandle Environment
    {
        get
        {
            lock (_gate)
            {
                if (_env != null) return _env;
                var env = new EnvHandle(Api);
                nint p;
                fixed (byte* id = Utf8.NullTerminated(LogId)) Api.Check(Api.CreateEnv((int)_logLevel, id, &p));
                env.Attach(p);
                return _env = env;
            }
        }
    }

    /// <summary>The memory description of CPU buffers handed to ONNX Runtime.</summary>
    internal MemoryInfoHandle CpuMemoryInfo
    {
        get
        {
            lock (_gate)
            {
                if (_cpuMemory != null) return _cpuMemory;
                var info = new MemoryInfoHandle(Api);
                nint p;
                Api.Check(Api.CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &p));
                info.Attach(p);
                return _cpuMemory = info;
            }
        }
    }

    /// <summary>
    /// Loads ONNX Runtime from <paramref name="path"/> (a file, or a folder holding the library) or, when null,
    /// from the first place of the search order that has it. The same file is loaded only once per process.
    /// </summary>
    /// <exception cref="OrtLibraryNotFoundException">Nothing loadable was found; the message lists every path tried.</exception>
    /// <exception cref="OrtLibraryException">A library loaded but is not usable (no C API entry point, or too old).</exception>
    public static OrtLibrary Load(string? path = null)
    {
        lock (LoadGate)
        {
            if (path != null) return LoadFirst(ExplicitCandidates(path), $"the ONNX Runtime library given as '{path}'");
            return _searched ??= LoadFirst(SearchCandidates(), "an ONNX Runtime library");
        }
    }

    /// <summary>The places searched when no path is given, in order (file paths, then names for the system loader).</summary>
    public static IReadOnlyList<string> SearchPaths() => [.. SearchCandidates().Select(c => c.Display)];

    /// <summary>The runtime identifier used in the search folders, e.g. <c>linux-x64</c>.</summary>
    public static string RuntimeId
    {
        get
        {
            var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            var arch = RuntimeInformation.ProcessArchitecture switch
            {
                Architecture.X64 => "x64",
                Architecture.Arm64 => "arm64",
                Architecture.X86 => "x86",
                Architecture.Arm => "arm",
                var other => other.ToString().ToLowerInvariant(),
            };
            return $"{os}-{arch}";
        }
    }

    /// <summary>Whether this library has the execution provider named <paramref name="name"/> (friendly or full name).</summary>
    public bool HasProvider(string name) =>
        ExecutionProviders.TryResolve(name, out var provider) && AvailableProviders.Contains(provider.ProviderName);

    /// <summary>E.g. <c>ONNX Runtime 1.30.0 (C API 30) from /path/libonnxruntime.so.1</c>.</summary>
    public override string ToString() => $"ONNX Runtime {Version} (C API {ApiVersion}) from {Path}";

    /// <summary>Copies a string ONNX Runtime allocated with the default allocator, then frees it.</summary>
    internal string TakeAllocatedString(byte* p)
    {
        if (p == null) return "";
        try
        {
            return Utf8.Read(p);
        }
        finally
        {
            Api.Check(Api.AllocatorFree(DefaultAllocator, p));
        }
    }

    /// <summary>Frees a buffer ONNX Runtime allocated with the default allocator.</summary>
    internal void FreeAllocated(void* p)
    {
        if (p != null) Api.Check(Api.AllocatorFree(DefaultAllocator, p));
    }

    private static IReadOnlyList<string> LibraryFileNames() =>
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib"]
        : ["libonnxruntime.so.1", "libonnxruntime.so"];

    private static List<Candidate> ExplicitCandidates(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(full)) return [new Candidate(full, FromLoader: false)];
        return [.. LibraryFileNames().Select(n => new Candidate(System.IO.Path.Combine(full, n), FromLoader: false))];
    }

    /// <summary>
    /// The provisioned library file for another machine's runtime identifier (e.g. <c>linux-arm64</c> for a bundle), found in the
    /// same folders as the default search (<c>onnxruntime/RID</c> beside the app, <c>artifacts/onnxruntime/RID</c> above it), without
    /// loading it; null when none is there. <paramref name="tried"/> lists the paths looked at.
    /// </summary>
    public static string? ProvisionedPath(string rid, out IReadOnlyList<string> tried)
    {
        var paths = SearchCandidates(rid).Where(c => !c.FromLoader).Select(c => c.Display).ToList();
        tried = paths;
        return paths.FirstOrDefault(File.Exists);
    }

    private static List<Candidate> SearchCandidates(string? rid = null)
    {
        var file = LibraryFileNames()[0];
        rid ??= RuntimeId;
        var baseDir = AppContext.BaseDirectory;
        var list = new List<Candidate> { new(System.IO.Path.Combine(baseDir, "onnxruntime", rid, file), FromLoader: false) };
        for (var dir = new DirectoryInfo(baseDir); dir != null; dir = dir.Parent)
        {
            list.Add(new Candidate(System.IO.Path.Combine(dir.FullName, "artifacts", "onnxruntime", rid, file), FromLoader: false));
        }
        list.AddRange(LibraryFileNames().Select(n => new Candidate(n, FromLoader: true)));
        return list;
    }

    private static OrtLibrary LoadFirst(List<Candidate> candidates, string what)
    {
        var tried = new List<string>();
        foreach (var candidate in candidates)
        {
            if (Loaded.TryGetValue(candidate.Key, out var cached)) return cached;
            if (TryOpen(candidate, tried) is { } handle) return Loaded[candidate.Key] = Bind(handle, candidate.Display);
        }
        var message = $"Could not find {what}. Tried, in order:{System.Environment.NewLine}" +
                      string.Join(System.Environment.NewLine, tried.Select(t => "  " + t)) +
                      System.Environment.NewLine + ProvisionHint;
        throw new OrtLibraryNotFoundException(message, tried);
    }

    private static nint? TryOpen(Candidate candidate, List<string> tried)
    {
        if (candidate.FromLoader)
        {
            if (NativeLibrary.TryLoad(candidate.Display, out var h)) return h;
            tried.Add($"{candidate.Display} (system loader: not found)");
            return null;
        }
        if (!File.Exists(candidate.Display))
        {
            tried.Add($"{candidate.Display} (no such file)");
            return null;
        }
        try
        {
            return NativeLibrary.Load(candidate.Display);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            tried.Add($"{candidate.Display} (exists but could not be loaded: {e.Message})");
            return null;
        }
    }

    private static OrtLibrary Bind(nint handle, string path)
    {
        try
        {
            if (!NativeLibrary.TryGetExport(handle, "OrtGetApiBase", out var entry))
            {
                throw new OrtLibraryException($"'{path}' loaded but exports no OrtGetApiBase: it is not ONNX Runtime. {ProvisionHint}");
            }
            var apiBase = (nint*)((delegate* unmanaged[Cdecl]<nint>)entry)();
            var getApi = (delegate* unmanaged[Cdecl]<uint, nint>)apiBase[0];
            var getVersion = (delegate* unmanaged[Cdecl]<byte*>)apiBase[1];
            var version = Utf8.Read(getVersion());
            var (apiVersion, table) = NegotiateApi(getApi, version);
            if (table == 0)
            {
                throw new OrtLibraryException(
                    $"ONNX Runtime {version} at '{path}' is too old: EdgeOpt needs C API version {MinimumApiVersion} " +
                    $"(ONNX Runtime 1.{MinimumApiVersion}) or newer. {ProvisionHint}");
            }
            var api = new OrtApi(table);
            if (!api.ProbeStatusRoundTrip())
            {
                throw new OrtLibraryException(
                    $"ONNX Runtime {version} at '{path}': the C API table (version {apiVersion}) does not behave as expected; " +
                    "the library may be damaged or not a genuine ONNX Runtime build.");
            }
            return new OrtLibrary(path, version, apiVersion, api);
        }
        catch
        {
            NativeLibrary.Free(handle);
            throw;
        }
    }

    /// <summary>
    /// Asks for the newest API version the library has: ONNX Runtime 1.N serves C API version N, so the request starts
    /// there (asking above it makes the library print an error) and steps down to <see cref="MinimumApiVersion"/>.
    /// </summary>
    private static (int Version, nint Table) NegotiateApi(delegate* unmanaged[Cdecl]<uint, nint> getApi, string version)
    {
        var parts = version.Split('.');
        var start = parts.Length >= 2 && parts[0] == "1" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            ? minor
            : MinimumApiVersion + 32;
        for (var v = start; v >= MinimumApiVersion; v--)
        {
            var table = getApi((uint)v);
            if (table != 0) return (v, table);
        }
        return (0, 0);
    }

    private static IReadOnlyList<string> QueryProviders(OrtApi api)
    {
        byte** names;
        int count;
        api.Check(api.GetAvailableProviders(&names, &count));
        var list = new List<string>(count);
        for (var i = 0; i < count; i++) list.Add(Utf8.Read(names[i]));
        api.Check(api.ReleaseAvailableProviders(names, count));
        return list;
    }

    private sealed record Candidate(string Display, bool FromLoader)
    {
        /// <summary>The cache key: the loader name, or the file with symbolic links resolved (one load per real file).</summary>
        public string Key => FromLoader ? "loader:" + Display : ResolveLinks(Display);

        private static string ResolveLinks(string path)
        {
            try
            {
                return File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
            }
            catch (IOException)
            {
                return path;
            }
        }
    }
}
