using EdgeOpt.Runtime.Native;

namespace EdgeOpt.Runtime;

/// <summary>
/// Options for one or more runs: a tag for ONNX Runtime's logs, a log severity, configuration entries, and a
/// terminate flag that makes runs using these options fail (<see cref="Terminate"/> may be called from another thread).
/// </summary>
public sealed unsafe class RunOptions : IDisposable
{
    private readonly RunOptionsHandle _handle;
    private string? _tag;
    private OrtLoggingLevel? _logSeverity;

    /// <summary>Default run options of <paramref name="library"/>.</summary>
    public RunOptions(OrtLibrary library)
    {
        Library = library;
        _handle = new RunOptionsHandle(library.Api);
        nint p;
        library.Api.Check(library.Api.CreateRunOptions(&p));
        _handle.Attach(p);
    }

    /// <summary>The library these options belong to.</summary>
    public OrtLibrary Library { get; }

    /// <summary>The tag ONNX Runtime puts in the log lines of these runs.</summary>
    public string? Tag
    {
        get => _tag;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            using var lease = _handle.Use();
            fixed (byte* t = Utf8.NullTerminated(value)) Library.Api.Check(Library.Api.RunOptionsSetRunTag(lease.Pointer, t));
            _tag = value;
        }
    }

    /// <summary>Log severity of these runs (null: the session's).</summary>
    public OrtLoggingLevel? LogSeverity
    {
        get => _logSeverity;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            using var lease = _handle.Use();
            Library.Api.Check(Library.Api.RunOptionsSetRunLogSeverityLevel(lease.Pointer, (int)value.Value));
            _logSeverity = value;
        }
    }

    /// <summary>Whether <see cref="Terminate"/> was called and not reset.</summary>
    public bool IsTerminated { get; private set; }

    /// <summary>Makes runs using these options (in flight or later) stop with an <see cref="OrtException"/>.</summary>
    public void Terminate()
    {
        using var lease = _handle.Use();
        Library.Api.Check(Library.Api.RunOptionsSetTerminate(lease.Pointer));
        IsTerminated = true;
    }

    /// <summary>Clears the terminate flag so these options can be used again.</summary>
    public void ResetTerminate()
    {
        using var lease = _handle.Use();
        Library.Api.Check(Library.Api.RunOptionsUnsetTerminate(lease.Pointer));
        IsTerminated = false;
    }

    /// <summary>Sets a run configuration entry (keys as in onnxruntime_run_options_config_keys.h).</summary>
    public void AddConfigEntry(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        using var lease = _handle.Use();
        fixed (byte* k = Utf8.NullTerminated(key))
        fixed (byte* v = Utf8.NullTerminated(value))
        {
            Library.Api.Check(Library.Api.AddRunConfigEntry(lease.Pointer, k, v));
        }
    }

    /// <summary>Releases the native run options.</summary>
    public void Dispose() => _handle.Dispose();

    internal OrtHandle.Lease Use(OrtLibrary library)
    {
        if (library != Library) throw new ArgumentException($"the run options belong to {Library}, not to {library}");
        return _handle.Use();
    }
}
