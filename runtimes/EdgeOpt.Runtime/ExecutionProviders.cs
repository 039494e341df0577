using EdgeOpt.Runtime.Native;

namespace EdgeOpt.Runtime;

/// <summary>
/// An execution provider by its names: the friendly one EdgeOpt's options use (<c>cuda</c>), the full one ONNX Runtime
/// reports (<c>CUDAExecutionProvider</c>), and the one its generic append function takes (<c>CUDA</c>).
/// <paramref name="ProviderLibrary"/> names the separate library a provider-bridge EP lives in
/// (<c>onnxruntime_providers_cuda</c>, without prefix or extension), null for providers built into the main library.
/// </summary>
public sealed record ExecutionProviderInfo(string FriendlyName, string ProviderName, string RegistrationName, string? ProviderLibrary = null);

/// <summary>
/// The one place execution providers are appended to session options. A provider is asked for by friendly or full
/// name with string options; one the loaded library lacks is an <see cref="ExecutionProviderException"/> listing what
/// the library has, never a silent fallback.
/// </summary>
/// <remarks>
/// <c>cpu</c> takes the option <c>use_arena</c> (<c>0</c>/<c>1</c>); <c>cuda</c> and <c>tensorrt</c> go through their V2
/// option objects (keys as in ONNX Runtime's CUDA/TensorRT documentation, e.g. <c>device_id</c>,
/// <c>trt_fp16_enable</c>); every other provider goes through ONNX Runtime's generic
/// <c>SessionOptionsAppendExecutionProvider</c> with its registration name.
/// </remarks>
public static class ExecutionProviders
{
    /// <summary>The option of the CPU provider that turns its memory arena on or off.</summary>
    public const string CpuUseArena = "use_arena";

    /// <summary>The providers known by friendly name.</summary>
    public static IReadOnlyList<ExecutionProviderInfo> Known { get; } =
    [
        new("cpu", "CPUExecutionProvider", "CPU"),
        new("cuda", "CUDAExecutionProvider", "CUDA", "onnxruntime_providers_cuda"),
        new("tensorrt", "TensorrtExecutionProvider", "TensorRT", "onnxruntime_providers_tensorrt"),
        new("xnnpack", "XnnpackExecutionProvider", "XNNPACK"),
        new("openvino", "OpenVINOExecutionProvider", "OpenVINO", "onnxruntime_providers_openvino"),
        new("dnnl", "DnnlExecutionProvider", "DNNL", "onnxruntime_providers_dnnl"),
        new("qnn", "QNNExecutionProvider", "QNN"),
        new("acl", "ACLExecutionProvider", "ACL"),
        new("armnn", "ArmNNExecutionProvider", "ArmNN"),
        new("rocm", "ROCMExecutionProvider", "ROCM", "onnxruntime_providers_rocm"),
        new("migraphx", "MIGraphXExecutionProvider", "MIGraphX", "onnxruntime_providers_migraphx"),
        new("coreml", "CoreMLExecutionProvider", "CoreML"),
        new("webgpu", "WebGpuExecutionProvider", "WebGPU"),
        new("webnn", "WebNNExecutionProvider", "WEBNN"),
        new("nnapi", "NnapiExecutionProvider", "NNAPI"),
        new("dml", "DmlExecutionProvider", "DML"),
        new("cann", "CANNExecutionProvider", "CANN", "onnxruntime_providers_cann"),
        new("vitisai", "VitisAIExecutionProvider", "VitisAI", "onnxruntime_providers_vitisai"),
        new("snpe", "SNPEExecutionProvider", "SNPE"),
        new("azure", "AzureExecutionProvider", "AZURE"),
        new("js", "JsExecutionProvider", "JS"),
        new("nv_tensorrt_rtx", "NvTensorRTRTXExecutionProvider", "NvTensorRtRtx"),
    ];

    /// <summary>
    /// The provider a friendly name (<c>cuda</c>, any case) or full name (<c>CUDAExecutionProvider</c>) stands for.
    /// A full name not in <see cref="Known"/> resolves to itself, with the <c>ExecutionProvider</c> suffix dropped as
    /// its registration name.
    /// </summary>
    public static bool TryResolve(string name, out ExecutionProviderInfo info)
    {
        var trimmed = name.Trim();
        var known = Known.FirstOrDefault(k =>
            string.Equals(k.FriendlyName, trimmed, StringComparison.OrdinalIgnoreCase) ||
            string.Equals(k.ProviderName, trimmed, StringComparison.OrdinalIgnoreCase));
        if (known != null)
        {
            info = known;
            return true;
        }
        const string suffix = "ExecutionProvider";
        if (trimmed.EndsWith(suffix, StringComparison.Ordinal) && trimmed.Length > suffix.Length)
        {
            info = new ExecutionProviderInfo(trimmed[..^suffix.Length].ToLowerInvariant(), trimmed, trimmed[..^suffix.Length]);
            return true;
        }
        info = null!;
        return false;
    }

    /// <summary>The provider <paramref name="name"/> stands for, checked against what <paramref name="library"/> has.</summary>
    /// <exception cref="ExecutionProviderException">The name is unknown, or the library was built without that provider.</exception>
    public static ExecutionProviderInfo Resolve(string name, OrtLibrary library)
    {
        var available = library.AvailableProviders;
        var has = $"this ONNX Runtime library ({library.Version}, {library.Path}) has: {string.Join(", ", available)}";
        if (!TryResolve(name, out var info))
        {
            throw new ExecutionProviderException(
                $"unknown execution provider '{name}': use a friendly name ({string.Join(", ", Known.Select(k => k.FriendlyName))}) " +
                $"or a full provider name; {has}", name, available);
        }
        if (!available.Contains(info.ProviderName, StringComparer.Ordinal))
        {
            throw new ExecutionProviderException(
                $"execution provider '{name}' ({info.ProviderName}) is not in {has}. " +
                "Pick one of those, or load an ONNX Runtime build that includes it with --ort-lib PATH.", name, available);
        }
        var missing = MissingProviderLibraries(info, library);
        if (missing.Count > 0)
        {
            throw new ExecutionProviderException(
                $"execution provider '{name}' ({info.ProviderName}) is compiled into ONNX Runtime {library.Version} ({library.Path}) " +
                $"but its provider libraries are not beside it: {string.Join(", ", missing)}. " +
                $"Providers this library can use: {string.Join(", ", library.UsableProviders)}. " +
                "Put the provider libraries next to it, or load a build that ships them with --ort-lib PATH.", name, available);
        }
        return info;
    }

    /// <summary>
    /// The provider-bridge libraries <paramref name="info"/> needs that are missing beside <paramref name="library"/>
    /// (nothing when the provider is built in, or when the library came from the system loader and has no folder).
    /// </summary>
    internal static IReadOnlyList<string> MissingProviderLibraries(ExecutionProviderInfo info, OrtLibrary library)
    {
        if (info.ProviderLibrary == null || !File.Exists(library.Path)) return [];
        var folder = Path.GetDirectoryName(library.Path)!;
        return [.. new[] { "onnxruntime_providers_shared", info.ProviderLibrary }
            .Select(n => Path.Combine(folder, NativeFileName(n)))
            .Where(f => !File.Exists(f))];
    }

    private static string NativeFileName(string name) =>
        OperatingSystem.IsWindows() ? name + ".dll" : OperatingSystem.IsMacOS() ? $"lib{name}.dylib" : $"lib{name}.so";

    /// <summary>
    /// Appends the provider to the native session options, after checking the library has it; ONNX Runtime refusing
    /// it (missing CUDA runtime, bad option) becomes an <see cref="ExecutionProviderException"/>.
    /// </summary>
    internal static ExecutionProviderInfo Append(OrtLibrary library, SessionOptionsHandle options, string name,
        IReadOnlyDictionary<string, string> providerOptions)
    {
        var info = Resolve(name, library);
        try
        {
            AppendResolved(library, options, info, providerOptions);
        }
        catch (OrtException e)
        {
            throw new ExecutionProviderException(
                $"ONNX Runtime {library.Version} could not enable execution provider '{name}' ({info.ProviderName}" +
                (providerOptions.Count > 0 ? $" with {Describe(providerOptions)}" : "") + $"): {e.NativeMessage}",
                name, library.AvailableProviders, e);
        }
        return info;
    }

    private static unsafe void AppendResolved(OrtLibrary library, SessionOptionsHandle options, ExecutionProviderInfo info,
        IReadOnlyDictionary<string, string> providerOptions)
    {
        var keys = providerOptions.Keys.ToList();
        var values = keys.Select(k => providerOptions[k]).ToList();
        var api = library.Api;
        using var lease = options.Use();
        switch (info.FriendlyName)
        {
            case "cpu":
                AppendCpu(api, lease.Pointer, providerOptions);
                break;
            case "cuda":
                WithOptionArrays(keys, values, (k, v, n) =>
                {
                    using var cuda = new CudaProviderOptionsHandle(api);
                    nint p;
                    api.Check(api.CreateCUDAProviderOptions(&p));
                    cuda.Attach(p);
                    api.Check(api.UpdateCUDAProviderOptions(p, k, v, n));
                    api.Check(api.SessionOptionsAppendExecutionProvider_CUDA_V2(lease.Pointer, p));
                });
                break;
            case "tensorrt":
                WithOptionArrays(keys, values, (k, v, n) =>
                {
                    using var trt = new TensorRTProviderOptionsHandle(api);
                    nint p;
                    api.Check(api.CreateTensorRTProviderOptions(&p));
                    trt.Attach(p);
                    api.Check(api.UpdateTensorRTProviderOptions(p, k, v, n));
                    api.Check(api.SessionOptionsAppendExecutionProvider_TensorRT_V2(lease.Pointer, p));
                });
                break;
            default:
                WithOptionArrays(keys, values, (k, v, n) =>
                {
                    fixed (byte* reg = Utf8.NullTerminated(info.RegistrationName))
                    {
                        api.Check(api.SessionOptionsAppendExecutionProvider(lease.Pointer, reg, k, v, n));
                    }
                });
                break;
        }
    }

    private static unsafe void AppendCpu(OrtApi api, nint options, IReadOnlyDictionary<string, string> providerOptions)
    {
        foreach (var (key, value) in providerOptions)
        {
            if (key != CpuUseArena)
            {
                throw new ArgumentException($"the CPU execution provider takes only the option '{CpuUseArena}' (0 or 1), not '{key}'");
            }
            var on = value.Trim().ToLowerInvariant() switch
            {
                "1" or "true" => true,
                "0" or "false" => false,
                _ => throw new ArgumentException($"'{CpuUseArena}' must be 0 or 1, not '{value}'"),
            };
            api.Check(on ? api.EnableCpuMemArena(options) : api.DisableCpuMemArena(options));
        }
    }

    private unsafe delegate void OptionArrays(byte** keys, byte** values, nuint count);

    private static unsafe void WithOptionArrays(List<string> keys, List<string> values, OptionArrays body)
    {
        var k = Utf8.AllocArray(keys);
        try
        {
            var v = Utf8.AllocArray(values);
            try
            {
                body(k, v, (nuint)keys.Count);
            }
            finally
            {
                Utf8.FreeArray(v, values.Count);
            }
        }
        finally
        {
            Utf8.FreeArray(k, keys.Count);
        }
    }

    /// <summary>Options as <c>key=value</c> pairs, for reports.</summary>
    public static string Describe(IReadOnlyDictionary<string, string> options) =>
        string.Join(";", options.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
}
