using System.Runtime.InteropServices;
using System.Text;
using EdgeOpt.Runtime.Native;

namespace EdgeOpt.Runtime;

/// <summary>
/// A model loaded into ONNX Runtime, ready to run. <see cref="Run(IReadOnlyDictionary{string, OrtValue}, RunOptions?)"/>
/// may be called from several threads at once on one session (ONNX Runtime allows it). Disposing while a run is in
/// flight is safe: the native session is released when that run returns, and later runs throw
/// <see cref="ObjectDisposedException"/>.
/// </summary>
public sealed unsafe class InferenceSession : IDisposable
{
    private readonly SessionHandle _handle;
    private readonly Dictionary<string, nint> _inputNames;
    private readonly Dictionary<string, nint> _outputNames;
    private ModelMetadata? _metadata;

    /// <summary>Loads the model file at <paramref name="modelPath"/> (external data is resolved beside it).</summary>
    /// <exception cref="OrtException">ONNX Runtime could not load the model (code and message as it reported them).</exception>
    public InferenceSession(OrtLibrary library, string modelPath, SessionOptions? options = null)
        : this(library, options, (env, so, api) =>
        {
            nint p;
            fixed (byte* path = Utf8.PlatformPath(Path.GetFullPath(modelPath))) api.Check(api.CreateSession(env, path, so, &p));
            return p;
        })
    {
        ModelPath = Path.GetFullPath(modelPath);
    }

    /// <summary>Loads a model from its serialized bytes (a model with external data needs a path instead).</summary>
    /// <exception cref="OrtException">The bytes are not a valid model (e.g. <see cref="OrtErrorCode.InvalidProtobuf"/>).</exception>
    public InferenceSession(OrtLibrary library, byte[] model, SessionOptions? options = null)
        : this(library, options, (env, so, api) =>
        {
            ArgumentNullException.ThrowIfNull(model);
            nint p;
            fixed (byte* data = model) api.Check(api.CreateSessionFromArray(env, data, (nuint)model.Length, so, &p));
            return p;
        })
    {
    }

    private InferenceSession(OrtLibrary library, SessionOptions? options, Func<nint, nint, OrtApi, nint> create)
    {
        ArgumentNullException.ThrowIfNull(library);
        if (options != null && options.Library != library)
        {
            throw new ArgumentException($"the session options belong to {options.Library}, not to {library}", nameof(options));
        }
        Library = library;
        var api = library.Api;
        var ownOptions = options == null ? new SessionOptions(library) : null;
        var so = options ?? ownOptions!;
        _handle = new SessionHandle(api);
        try
        {
            using (var optionsLease = so.Handle.Use())
            using (var envLease = library.Environment.Use())
            {
                _handle.Attach(create(envLease.Pointer, optionsLease.Pointer, api));
            }
            ExecutionProviders = [.. so.ExecutionProviders];
            ProfilingEnabled = so.ProfilingPrefix != null;
            Inputs = ReadValueInfos(isInput: true);
            Outputs = ReadValueInfos(isInput: false);
            InputNames = [.. Inputs.Select(i => i.Name)];
            OutputNames = [.. Outputs.Select(o => o.Name)];
            (_inputNames, _outputNames) = StoreNames();
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
        finally
        {
            ownOptions?.Dispose();
        }
    }

    /// <summary>The library running this session.</summary>
    public OrtLibrary Library { get; }

    /// <summary>The model file, when the session was loaded from one.</summary>
    public string? ModelPath { get; }

    /// <summary>The model's inputs, in order.</summary>
    public IReadOnlyList<ValueInfo> Inputs { get; }

    /// <summary>The model's outputs, in order.</summary>
    public IReadOnlyList<ValueInfo> Outputs { get; }

    /// <summary>The input names, in order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The output names, in order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The providers the options asked for, in order of preference (CPU always backs them).</summary>
    public IReadOnlyList<ExecutionProviderInfo> ExecutionProviders { get; }

    /// <summary>Whether the options enabled profiling (see <see cref="EndProfiling"/>).</summary>
    public bool ProfilingEnabled { get; }

    /// <summary>Producer, graph name, domain, description and version from the model file.</summary>
    public ModelMetadata Metadata => _metadata ??= ReadMetadata();

    /// <summary>Runs the model on <paramref name="inputs"/> (by input name) and returns every output, in model order.</summary>
    public SessionOutputs Run(IReadOnlyDictionary<string, OrtValue> inputs, RunOptions? runOptions = null) =>
        Run(inputs, OutputNames, runOptions);

    /// <summary>Runs the model on <paramref name="inputs"/> and returns the outputs named in <paramref name="outputNames"/>.</summary>
    public SessionOutputs Run(IReadOnlyDictionary<string, OrtValue> inputs, IReadOnlyList<string> outputNames, RunOptions? runOptions = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var names = inputs.Keys.ToList();
        return Run(names, [.. names.Select(n => inputs[n])], outputNames, runOptions);
    }

    /// <summary>
    /// Runs the model: <paramref name="inputs"/>[i] feeds the input <paramref name="inputNames"/>[i]; returns the
    /// outputs named in <paramref name="outputNames"/>, in that order. The caller disposes the result.
    /// </summary>
    /// <exception cref="ArgumentException">A name is not one of the model's, or the lists differ in length.</exception>
    /// <exception cref="OrtException">ONNX Runtime failed the run (wrong shape or type, terminated, …).</exception>
    public SessionOutputs Run(IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> inputs, IReadOnlyList<string> outputNames,
        RunOptions? runOptions = null)
    {
        ArgumentNullException.ThrowIfNull(inputNames);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputNames);
        if (inputNames.Count != inputs.Count)
        {
            throw new ArgumentException($"{inputNames.Count} input names but {inputs.Count} input values");
        }
        ObjectDisposedException.ThrowIf(_handle.IsDisposed, this);
        var inCount = inputs.Count;
        var outCount = outputNames.Count;
        var buffer = new nint[inCount * 2 + outCount * 2];
        var leases = new OrtHandle.Lease[inCount];
        var leased = 0;
        try
        {
            using var session = _handle.Use();
            using var run = runOptions?.Use(Library) ?? default;
            for (var i = 0; i < inCount; i++)
            {
                buffer[i] = NamePointer(_inputNames, inputNames[i], "input", InputNames);
                CheckOwned(inputs[i], inputNames[i]);
                leases[i] = inputs[i].Handle.Use();
                leased++;
                buffer[inCount + i] = leases[i].Pointer;
            }
            for (var i = 0; i < outCount; i++) buffer[2 * inCount + i] = NamePointer(_outputNames, outputNames[i], "output", OutputNames);
            fixed (nint* b = buffer)
            {
                var outValues = b + 2 * inCount + outCount;
                var status = Library.Api.Run(session.Pointer, run.Pointer, (byte**)b, b + inCount, (nuint)inCount,
                    (byte**)(b + 2 * inCount), (nuint)outCount, outValues);
                return WrapOutputs(status, outputNames, outValues);
            }
        }
        finally
        {
            for (var i = 0; i < leased; i++) leases[i].Dispose();
        }
    }

    /// <summary>A binding of inputs and outputs for <see cref="Run(IoBinding, RunOptions?)"/>.</summary>
    public IoBinding CreateIoBinding() => new(this);

    /// <summary>Runs the model on the values bound in <paramref name="binding"/>; read outputs with <see cref="IoBinding.GetOutputs"/>.</summary>
    public void Run(IoBinding binding, RunOptions? runOptions = null)
    {
        ArgumentNullException.ThrowIfNull(binding);
        if (binding.Session != this) throw new ArgumentException("the binding was created by another session", nameof(binding));
        using var session = _handle.Use();
        using var run = runOptions?.Use(Library) ?? default;
        using var bound = binding.Handle.Use();
        Library.Api.Check(Library.Api.RunWithBinding(session.Pointer, run.Pointer, bound.Pointer));
    }

    /// <summary>
    /// Stops profiling and writes the profile; returns the path of the JSON file (parse it with
    /// <see cref="Profiling.ProfileReport.Load"/>). Only valid when the options set <see cref="SessionOptions.ProfilingPrefix"/>.
    /// </summary>
    public string EndProfiling()
    {
        if (!ProfilingEnabled) throw new InvalidOperationException("profiling is off: set SessionOptions.ProfilingPrefix before creating the session");
        using var session = _handle.Use();
        byte* path;
        Library.Api.Check(Library.Api.SessionEndProfiling(session.Pointer, Library.DefaultAllocator, &path));
        return Library.TakeAllocatedString(path);
    }

    /// <summary>Releases the native session (after any run still in flight returns).</summary>
    public void Dispose() => _handle.Dispose();

    internal SessionHandle Handle => _handle;

    internal nint InputNamePointer(string name) => NamePointer(_inputNames, name, "input", InputNames);

    internal nint OutputNamePointer(string name) => NamePointer(_outputNames, name, "output", OutputNames);

    private static nint NamePointer(Dictionary<string, nint> names, string name, string kind, IReadOnlyList<string> all) =>
        names.TryGetValue(name, out var p)
            ? p
            : throw new ArgumentException($"the model has no {kind} named '{name}'; its {kind}s are {string.Join(", ", all.Select(n => $"'{n}'"))}");

    private void CheckOwned(OrtValue value, string name)
    {
        ArgumentNullException.ThrowIfNull(value, name);
        if (value.Library != Library)
        {
            throw new ArgumentException($"the value for '{name}' was created by {value.Library}, but this session runs on {Library}");
        }
    }

    private SessionOutputs WrapOutputs(nint status, IReadOnlyList<string> outputNames, nint* outValues)
    {
        var api = Library.Api;
        if (status != 0)
        {
            for (var i = 0; i < outputNames.Count; i++)
            {
                if (outValues[i] != 0) api.ReleaseValue(outValues[i]);
            }
            throw api.TakeError(status);
        }
        var values = new OrtValue?[outputNames.Count];
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                var handle = new ValueHandle(api);
                handle.Attach(outValues[i]);
                outValues[i] = 0;
                values[i] = new OrtValue(Library, handle, outputNames[i]);
            }
            return new SessionOutputs([.. outputNames], [.. values.Select(v => v!)]);
        }
        catch
        {
            foreach (var v in values) v?.Dispose();
            throw;
        }
    }

    private IReadOnlyList<ValueInfo> ReadValueInfos(bool isInput)
    {
        var api = Library.Api;
        using var session = _handle.Use();
        nuint count;
        api.Check(isInput ? api.SessionGetInputCount(session.Pointer, &count) : api.SessionGetOutputCount(session.Pointer, &count));
        var list = new List<ValueInfo>((int)count);
        for (nuint i = 0; i < count; i++)
        {
            byte* name;
            api.Check(isInput
                ? api.SessionGetInputName(session.Pointer, i, Library.DefaultAllocator, &name)
                : api.SessionGetOutputName(session.Pointer, i, Library.DefaultAllocator, &name));
            var managedName = Library.TakeAllocatedString(name);
            using var typeInfo = new TypeInfoHandle(api);
            nint ti;
            api.Check(isInput
                ? api.SessionGetInputTypeInfo(session.Pointer, i, &ti)
                : api.SessionGetOutputTypeInfo(session.Pointer, i, &ti));
            typeInfo.Attach(ti);
            list.Add(Describe(api, managedName, ti));
        }
        return list;
    }

    private static ValueInfo Describe(OrtApi api, string name, nint typeInfo)
    {
        int kind;
        api.Check(api.GetOnnxTypeFromTypeInfo(typeInfo, &kind));
        if ((OnnxValueKind)kind != OnnxValueKind.Tensor) return new ValueInfo(name, (OnnxValueKind)kind, OnnxElementType.Undefined, [], []);
        nint tensorInfo;
        api.Check(api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo));
        var (type, dims, symbols) = TensorShapeInfo.Read(api, tensorInfo, withSymbols: true);
        return new ValueInfo(name, OnnxValueKind.Tensor, type, dims, symbols);
    }

    private (Dictionary<string, nint> Inputs, Dictionary<string, nint> Outputs) StoreNames()
    {
        var all = Inputs.Select(i => i.Name).Concat(Outputs.Select(o => o.Name)).ToList();
        var sizes = all.Select(n => Encoding.UTF8.GetByteCount(n) + 1).ToList();
        var block = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, sizes.Sum()));
        _handle.KeepNames(block);
        var inputs = new Dictionary<string, nint>(StringComparer.Ordinal);
        var outputs = new Dictionary<string, nint>(StringComparer.Ordinal);
        var at = block;
        for (var i = 0; i < all.Count; i++)
        {
            var written = Encoding.UTF8.GetBytes(all[i], new Span<byte>(at, sizes[i] - 1));
            at[written] = 0;
            (i < Inputs.Count ? inputs : outputs)[all[i]] = (nint)at;
            at += sizes[i];
        }
        return (inputs, outputs);
    }

    private ModelMetadata ReadMetadata()
    {
        var api = Library.Api;
        using var session = _handle.Use();
        using var metadata = new ModelMetadataHandle(api);
        nint m;
        api.Check(api.SessionGetModelMetadata(session.Pointer, &m));
        metadata.Attach(m);
        byte* s;
        api.Check(api.ModelMetadataGetProducerName(m, Library.DefaultAllocator, &s));
        var producer = Library.TakeAllocatedString(s);
        api.Check(api.ModelMetadataGetGraphName(m, Library.DefaultAllocator, &s));
        var graph = Library.TakeAllocatedString(s);
        api.Check(api.ModelMetadataGetDomain(m, Library.DefaultAllocator, &s));
        var domain = Library.TakeAllocatedString(s);
        api.Check(api.ModelMetadataGetDescription(m, Library.DefaultAllocator, &s));
        var description = Library.TakeAllocatedString(s);
        long version;
        api.Check(api.ModelMetadataGetVersion(m, &version));
        return new ModelMetadata(producer, graph, domain, description, version);
    }
}
