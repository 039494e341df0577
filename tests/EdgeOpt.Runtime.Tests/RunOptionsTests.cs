namespace EdgeOpt.Runtime.Tests;

public class RunOptionsTests
{
    [Test]
    public void Run_WithTag_Succeeds()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.MatMulAddRelu());
        using var x = OrtValue.CreateTensor(library, new float[] { 1, 2, 3, 4 }, [1, 4]);
        using var options = new RunOptions(library) { Tag = "bench-run-1", LogSeverity = OrtLoggingLevel.Error };

        using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x }, options);

        Assert.That(options.Tag, Is.EqualTo("bench-run-1"));
        Assert.That(outputs, Has.Count.EqualTo(1));
    }

    [Test]
    public void Run_Terminated_FailsUntilReset()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.MatMulAddRelu());
        using var x = OrtValue.CreateTensor(library, new float[] { 1, 2, 3, 4 }, [1, 4]);
        using var options = new RunOptions(library);
        var feeds = new Dictionary<string, OrtValue> { ["x"] = x };

        options.Terminate();
        var e = Assert.Throws<OrtException>(() => session.Run(feeds, options))!;
        options.ResetTerminate();
        using var outputs = session.Run(feeds, options);

        Assert.That(e.NativeMessage, Does.Contain("terminate").IgnoreCase);
        Assert.That(options.IsTerminated, Is.False);
        Assert.That(outputs, Has.Count.EqualTo(1));
    }

    [Test]
    public void AddConfigEntry_IsAccepted()
    {
        using var options = new RunOptions(Ort.Library);

        Assert.DoesNotThrow(() => options.AddConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0"));
    }
}
