using EdgeOpt.Runtime.Native;

namespace EdgeOpt.Runtime;

/// <summary>
/// Inputs and outputs bound to a session ahead of <see cref="InferenceSession.Run(IoBinding, RunOptions?)"/>: inputs
/// are handed over once and reused across runs, outputs are written into bound values or allocated by ONNX Runtime
/// on a device (here: CPU memory), which avoids copies with providers that keep data on their device. Bound values,
/// and the session, are kept alive until unbound or until the binding is disposed: dispose it. Not thread-safe.
/// </summary>
public sealed unsafe class IoBinding : IDisposable
{
    private readonly IoBindingHandle _handle;
    private readonly OrtHandle.Lease _session;
    private readonly Dictionary<string, OrtHandle.Lease> _inputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrtHandle.Lease> _outputs = new(StringComparer.Ordinal);

    internal IoBinding(InferenceSession session)
    {
        Session = session;
        var api = session.Library.Api;
        _handle = new IoBindingHandle(api);
        _session = session.Handle.Use();
        try
        {
            nint p;
            api.Check(api.CreateIoBinding(_session.Pointer, &p));
            _handle.Attach(p);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The session this binding belongs to.</summary>
    public InferenceSession Session { get; }

    internal IoBindingHandle Handle => _handle;

    private OrtApi Api => Session.Library.Api;

    /// <summary>Binds <paramref name="value"/> to the input <paramref name="name"/> (replacing an earlier binding).</summary>
    public void BindInput(string name, OrtValue value)
    {
        var namePtr = Session.InputNamePointer(name);
        Bind(_inputs, name, value, (b, v) => Api.BindInput(b, (byte*)namePtr, v));
    }

    /// <summary>Binds a pre-allocated <paramref name="value"/> that ONNX Runtime writes the output <paramref name="name"/> into.</summary>
    public void BindOutput(string name, OrtValue value)
    {
        var namePtr = Session.OutputNamePointer(name);
        Bind(_outputs, name, value, (b, v) => Api.BindOutput(b, (byte*)namePtr, v));
    }

    /// <summary>Lets ONNX Runtime allocate the output <paramref name="name"/> in CPU memory at run time (any shape).</summary>
    public void BindOutputToCpu(string name)
    {
        var namePtr = Session.OutputNamePointer(name);
        using var binding = _handle.Use();
        using var memory = Session.Library.CpuMemoryInfo.Use();
        Api.Check(Api.BindOutputToDevice(binding.Pointer, (byte*)namePtr, memory.Pointer));
        if (_outputs.Remove(name, out var old)) old.Dispose();
    }

    /// <summary>Unbinds every input.</summary>
    public void ClearInputs()
    {
        using (var binding = _handle.Use()) Api.ClearBoundInputs(binding.Pointer);
        Release(_inputs);
    }

    /// <summary>Unbinds every output.</summary>
    public void ClearOutputs()
    {
        using (var binding = _handle.Use()) Api.ClearBoundOutputs(binding.Pointer);
        Release(_outputs);
    }

    /// <summary>The outputs of the last run, in the order they were bound, as new values the caller disposes.</summary>
    public SessionOutputs GetOutputs()
    {
        var library = Session.Library;
        using var binding = _handle.Use();
        var names = ReadOutputNames(library, binding.Pointer);
        nint* values;
        nuint count;
        Api.Check(Api.GetBoundOutputValues(binding.Pointer, library.DefaultAllocator, &values, &count));
        var result = new OrtValue[(int)count];
        var taken = 0;
        try
        {
            for (; taken < result.Length; taken++)
            {
                var handle = new ValueHandle(Api);
                handle.Attach(values[taken]);
                result[taken] = new OrtValue(library, handle, taken < names.Length ? names[taken] : null);
            }
        }
        catch
        {
            for (var i = 0; i < taken; i++) result[i].Dispose();
            for (var i = taken; i < result.Length; i++) Api.ReleaseValue(values[i]);
            throw;
        }
        finally
        {
            library.FreeAllocated(values);
        }
        return new SessionOutputs(names.Length == result.Length ? names : [.. result.Select((_, i) => $"output {i}")], result);
    }

    /// <summary>Releases the native binding, then the values and the session it kept alive.</summary>
    public void Dispose()
    {
        if (_handle.IsDisposed) return;
        _handle.Dispose();
        Release(_inputs);
        Release(_outputs);
        _session.Dispose();
    }

    private void Bind(Dictionary<string, OrtHandle.Lease> bound, string name, OrtValue value, Func<nint, nint, nint> bind)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Library != Session.Library) throw new ArgumentException($"the value was created by {value.Library}, not {Session.Library}");
        using var binding = _handle.Use();
        var lease = value.Handle.Use();
        try
        {
            Api.Check(bind(binding.Pointer, lease.Pointer));
        }
        catch
        {
            lease.Dispose();
            throw;
        }
        if (bound.Remove(name, out var old)) old.Dispose();
        bound[name] = lease;
    }

    private string[] ReadOutputNames(OrtLibrary library, nint binding)
    {
        byte* buffer;
        nuint* lengths;
        nuint count;
        Api.Check(Api.GetBoundOutputNames(binding, library.DefaultAllocator, &buffer, &lengths, &count));
        if (count == 0) return [];
        try
        {
            var names = new string[(int)count];
            var at = buffer;
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = System.Text.Encoding.UTF8.GetString(at, (int)lengths[i]);
                at += lengths[i];
            }
            return names;
        }
        finally
        {
            library.FreeAllocated(buffer);
            library.FreeAllocated(lengths);
        }
    }

    private static void Release(Dictionary<string, OrtHandle.Lease> bound)
    {
        foreach (var lease in bound.Values) lease.Dispose();
        bound.Clear();
    }
}
