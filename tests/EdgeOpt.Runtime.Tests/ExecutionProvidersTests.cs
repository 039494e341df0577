namespace EdgeOpt.Runtime.Tests;

public class ExecutionProvidersTests
{
    [Test]
    public void Append_CudaOnCpuLibrary_ThrowsListingTheAvailableProviders()
    {
        var library = Ort.Library;
        if (library.UsableProviders.Contains("CUDAExecutionProvider")) Assert.Ignore("this ONNX Runtime library has a usable CUDA provider");
        using var options = new SessionOptions(library);

        var e = Assert.Throws<ExecutionProviderException>(() => options.AppendExecutionProvider("cuda"))!;

        Assert.That(e.Requested, Is.EqualTo("cuda"));
        Assert.That(e.AvailableProviders, Is.EqualTo(library.AvailableProviders));
        Assert.That(e.Message, Does.Contain("CUDAExecutionProvider").And.Contain("CPUExecutionProvider").And.Contain("--ort-lib"));
        Assert.That(options.ExecutionProviders, Is.Empty);
    }

    [TestCase("tensorrt", "TensorrtExecutionProvider")]
    [TestCase("xnnpack", "XnnpackExecutionProvider")]
    [TestCase("OpenVINOExecutionProvider", "OpenVINOExecutionProvider")]
    [TestCase("dnnl", "DnnlExecutionProvider")]
    public void Append_ProviderTheLibraryCannotUse_Throws(string name, string provider)
    {
        var library = Ort.Library;
        if (library.UsableProviders.Contains(provider)) Assert.Ignore($"this library can use {provider}");
        using var options = new SessionOptions(library);

        var e = Assert.Throws<ExecutionProviderException>(() => options.AppendExecutionProvider(name))!;

        Assert.That(e.Message, Does.Contain(provider).And.Contain("CPUExecutionProvider"));
    }

    [Test]
    public void UsableProviders_BridgeProviderWithoutItsLibrary_IsLeftOut()
    {
        var library = Ort.Library;
        var folder = Path.GetDirectoryName(library.Path)!;
        if (!library.AvailableProviders.Contains("CUDAExecutionProvider") || File.Exists(Path.Combine(folder, "libonnxruntime_providers_cuda.so")))
        {
            Assert.Ignore("needs a library that lists CUDA without its provider library beside it (the npm CPU build)");
        }

        Assert.That(library.UsableProviders, Does.Not.Contain("CUDAExecutionProvider"));
        Assert.That(library.UsableProviders, Does.Contain("CPUExecutionProvider"));
    }

    [Test]
    public void Append_UnknownName_ThrowsListingTheFriendlyNames()
    {
        using var options = new SessionOptions(Ort.Library);

        var e = Assert.Throws<ExecutionProviderException>(() => options.AppendExecutionProvider("warp-drive"))!;

        Assert.That(e.Message, Does.Contain("unknown execution provider 'warp-drive'").And.Contain("cuda").And.Contain("xnnpack"));
    }

    [TestCase("cpu", "CPUExecutionProvider")]
    [TestCase("CUDA", "CUDAExecutionProvider")]
    [TestCase("tensorrt", "TensorrtExecutionProvider")]
    [TestCase("xnnpack", "XnnpackExecutionProvider")]
    [TestCase("openvino", "OpenVINOExecutionProvider")]
    [TestCase("qnn", "QNNExecutionProvider")]
    [TestCase("coreml", "CoreMLExecutionProvider")]
    [TestCase("webgpu", "WebGpuExecutionProvider")]
    [TestCase("CUDAExecutionProvider", "CUDAExecutionProvider")]
    [TestCase("FancyNpuExecutionProvider", "FancyNpuExecutionProvider")]
    public void TryResolve_FriendlyOrFullName_GivesTheProviderName(string name, string provider)
    {
        Assert.That(ExecutionProviders.TryResolve(name, out var info), Is.True);
        Assert.That(info.ProviderName, Is.EqualTo(provider));
    }

    [Test]
    public void Append_CpuWithArenaOff_RunsAndIsRecorded()
    {
        var library = Ort.Library;
        using var options = new SessionOptions(library);

        options.AppendExecutionProvider("cpu", new Dictionary<string, string> { [ExecutionProviders.CpuUseArena] = "0" });
        using var session = new InferenceSession(library, Ort.Bytes(TestModels.MatMulAddRelu()), options);
        using var x = OrtValue.CreateTensor(library, new float[] { 1, 2, 3, 4 }, [1, 4]);
        using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });

        Assert.That(session.ExecutionProviders.Select(p => p.ProviderName), Is.EqualTo(new[] { "CPUExecutionProvider" }));
        Assert.That(options.ExecutionProviderOptions["CPUExecutionProvider"], Does.ContainKey("use_arena"));
        Assert.That(outputs[0].Shape, Is.EqualTo(new long[] { 1, 3 }));
    }

    [Test]
    public void Append_CpuWithUnknownOption_ThrowsNamingTheAcceptedOne()
    {
        using var options = new SessionOptions(Ort.Library);

        var e = Assert.Throws<ArgumentException>(() =>
            options.AppendExecutionProvider("cpu", new Dictionary<string, string> { ["threads"] = "4" }))!;

        Assert.That(e.Message, Does.Contain("use_arena"));
    }
}
