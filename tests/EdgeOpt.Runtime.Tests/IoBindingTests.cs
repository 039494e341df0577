namespace EdgeOpt.Runtime.Tests;

public class IoBindingTests
{
    [Test]
    public void Run_WithBindingToCpu_EqualsPlainRun()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.MatMulAddRelu());
        using var x = OrtValue.CreateTensor(library, new float[] { 0.5f, -1, 2, 0.25f }, [1, 4]);
        using var plain = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });
        using var binding = session.CreateIoBinding();

        binding.BindInput("x", x);
        binding.BindOutputToCpu("y");
        session.Run(binding);
        using var bound = binding.GetOutputs();

        Assert.That(bound.Names, Is.EqualTo(new[] { "y" }));
        Assert.That(bound[0].ToArray<float>(), Is.EqualTo(plain[0].ToArray<float>()));
    }

    [Test]
    public void Run_WithPreallocatedOutput_WritesIntoIt()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.MatMulAddRelu());
        using var x = OrtValue.CreateTensor(library, new float[] { 0.5f, -1, 2, 0.25f }, [1, 4]);
        using var plain = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });
        var y = new float[3];
        using var yValue = OrtValue.CreateTensor(library, y, [1, 3]);
        using var binding = session.CreateIoBinding();

        binding.BindInput("x", x);
        binding.BindOutput("y", yValue);
        session.Run(binding);
        session.Run(binding);

        Assert.That(y, Is.EqualTo(plain[0].ToArray<float>()));
    }

    [Test]
    public void BindInput_DisposedByCallerBeforeTheRun_StaysAliveInTheBinding()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.MatMulAddRelu());
        using var binding = session.CreateIoBinding();
        var x = OrtValue.CreateTensor(library, new float[] { 1, 2, 3, 4 }, [1, 4]);

        binding.BindInput("x", x);
        x.Dispose();
        binding.BindOutputToCpu("y");
        session.Run(binding);
        using var outputs = binding.GetOutputs();

        Assert.That(outputs[0].Shape, Is.EqualTo(new long[] { 1, 3 }));
    }

    [Test]
    public void ClearInputsAndOutputs_UnbindEverything()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.MatMulAddRelu());
        using var x = OrtValue.CreateTensor(library, new float[] { 1, 2, 3, 4 }, [1, 4]);
        using var binding = session.CreateIoBinding();
        binding.BindInput("x", x);
        binding.BindOutputToCpu("y");

        binding.ClearOutputs();
        var noOutput = Assert.Throws<OrtException>(() => session.Run(binding))!;
        binding.BindOutputToCpu("y");
        binding.ClearInputs();
        var noInput = Assert.Throws<OrtException>(() => session.Run(binding))!;

        Assert.That(noOutput.NativeMessage, Does.Contain("output"));
        Assert.That(noInput.NativeMessage, Does.Contain("Missing Input: x"));
    }

    [Test]
    public void Dispose_SessionBeforeItsBinding_IsSafe()
    {
        var library = Ort.Library;
        var session = Ort.Session(TestModels.MatMulAddRelu());
        var binding = session.CreateIoBinding();
        using var x = OrtValue.CreateTensor(library, new float[4], [1, 4]);
        binding.BindInput("x", x);

        session.Dispose();
        binding.BindOutputToCpu("y");
        Assert.Throws<ObjectDisposedException>(() => session.Run(binding));
        binding.Dispose();
        binding.Dispose();

        Assert.That(session.Handle.IsClosed, Is.True, "released once the binding let go of it");
    }

    [Test]
    public void BindInput_UnknownName_Throws()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.MatMulAddRelu());
        using var binding = session.CreateIoBinding();
        using var x = OrtValue.CreateTensor(library, new float[4], [1, 4]);

        Assert.Throws<ArgumentException>(() => binding.BindInput("nope", x));
    }
}
