using EdgeOpt.Runtime.Native;

namespace EdgeOpt.Runtime.Tests.Native;

/// <summary>
/// Checks that function table positions reach the functions they name, including the CUDA and TensorRT ones that no
/// session on a CPU machine can use: their options objects are created and released, and updating and appending them
/// reach the provider bridge (without its provider library, updating fails naming onnxruntime_providers_shared and
/// appending fails naming the append function; with it, a known key is accepted and an unknown one refused by name).
/// </summary>
public unsafe class OrtApiTests
{
    [Test]
    public void ProbeStatusRoundTrip_CreateStatusThenReadCodeAndMessage_MatchesTheExpectedLayout()
    {
        Assert.That(Ort.Library.Api.ProbeStatusRoundTrip(), Is.True);
    }

    [Test]
    public void CudaProviderOptions_CreateUpdateAppendRelease_BehaveAsTheirNamesSay()
    {
        var api = Ort.Library.Api;
        CheckProviderOptions("CUDA", "device_id",
            p => api.CreateCUDAProviderOptions(p),
            (o, k, v, n) => api.UpdateCUDAProviderOptions(o, k, v, n),
            (so, o) => api.SessionOptionsAppendExecutionProvider_CUDA_V2(so, o),
            o => api.ReleaseCUDAProviderOptions(o));
    }

    [Test]
    public void TensorRTProviderOptions_CreateUpdateAppendRelease_BehaveAsTheirNamesSay()
    {
        var api = Ort.Library.Api;
        CheckProviderOptions("TensorRT", "trt_fp16_enable",
            p => api.CreateTensorRTProviderOptions(p),
            (o, k, v, n) => api.UpdateTensorRTProviderOptions(o, k, v, n),
            (so, o) => api.SessionOptionsAppendExecutionProvider_TensorRT_V2(so, o),
            o => api.ReleaseTensorRTProviderOptions(o));
    }

    private delegate nint Create(nint* options);

    private delegate nint Update(nint options, byte** keys, byte** values, nuint count);

    private static void CheckProviderOptions(string provider, string knownKey, Create create, Update update,
        Func<nint, nint, nint> append, Action<nint> release)
    {
        var library = Ort.Library;
        var api = library.Api;
        _ = library.Environment;
        nint options;
        var created = create(&options);
        if (created != 0) Assert.Ignore($"{provider} options cannot be created here: {api.TakeError(created).NativeMessage}");
        try
        {
            using var sessionOptions = new SessionOptions(library);
            using var lease = sessionOptions.Handle.Use();
            var bridge = ExecutionProviders.Resolve("cpu", library) with { ProviderLibrary = $"onnxruntime_providers_{provider.ToLowerInvariant()}" };
            if (ExecutionProviders.MissingProviderLibraries(bridge, library).Count > 0)
            {
                Assert.That(Call(update, options, knownKey, "0")?.NativeMessage, Does.Contain("onnxruntime_providers_shared"),
                    $"{provider}: updating options goes to the missing provider bridge");
                var appended = append(lease.Pointer, options);
                Assert.That(appended, Is.Not.Zero, $"{provider}: appending without its provider library fails");
                Assert.That(api.TakeError(appended).NativeMessage, Does.Contain($"AppendExecutionProvider_{provider}").IgnoreCase,
                    $"{provider}: the refusal names the append function the position reached");
                return;
            }
            Assert.That(Call(update, options, knownKey, "0"), Is.Null, $"{provider}: '{knownKey}' accepted");
            Assert.That(Call(update, options, "edgeopt_no_such_option", "1")?.NativeMessage, Does.Contain("edgeopt_no_such_option"));
            var status = append(lease.Pointer, options);
            if (status != 0) TestContext.Out.WriteLine($"{provider} append: {api.TakeError(status).NativeMessage}");
        }
        finally
        {
            release(options);
        }
    }

    private static OrtException? Call(Update update, nint options, string key, string value)
    {
        var k = Utf8.AllocArray([key]);
        var v = Utf8.AllocArray([value]);
        try
        {
            var status = update(options, k, v, 1);
            return status == 0 ? null : Ort.Library.Api.TakeError(status);
        }
        finally
        {
            Utf8.FreeArray(k, 1);
            Utf8.FreeArray(v, 1);
        }
    }
}
