namespace EdgeOpt.Runtime.Tests;

public class SessionOptionsTests
{
    [Test]
    public void FreeDimensionOverrideByName_FixesTheSymbolicDimension()
    {
        var library = Ort.Library;
        using var options = new SessionOptions(library);

        options.AddFreeDimensionOverrideByName("batch", 2);
        using var session = new InferenceSession(library, Ort.Bytes(TestModels.SymbolicBatch()), options);
        using var x = OrtValue.CreateTensor(library, new float[8], [2, 4]);
        using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });

        Assert.That(options.FreeDimensionOverridesByName["batch"], Is.EqualTo(2));
        Assert.That(session.Inputs[0].Shape, Is.EqualTo(new long[] { 2, 4 }));
        Assert.That(outputs[0].ToArray<float>(), Is.All.EqualTo(1f));
    }

    [Test]
    public void FreeDimensionOverrideByDenotation_IsAccepted()
    {
        using var options = new SessionOptions(Ort.Library);

        options.AddFreeDimensionOverrideByDenotation("DATA_BATCH", 1);

        Assert.That(options.FreeDimensionOverridesByDenotation["DATA_BATCH"], Is.EqualTo(1));
    }

    [Test]
    public void Settings_AreAppliedAndKept()
    {
        using var options = new SessionOptions(Ort.Library)
        {
            IntraOpThreads = 2,
            InterOpThreads = 1,
            ExecutionMode = ExecutionMode.Parallel,
            GraphOptimizationLevel = GraphOptimizationLevel.Extended,
            LogSeverity = OrtLoggingLevel.Error,
            DisableCpuFallback = false,
        };
        options.AddConfigEntry("session.use_env_allocators", "0");

        Assert.That(options.IntraOpThreads, Is.EqualTo(2));
        Assert.That(options.ExecutionMode, Is.EqualTo(ExecutionMode.Parallel));
        Assert.That(options.GraphOptimizationLevel, Is.EqualTo(GraphOptimizationLevel.Extended));
        Assert.That(options.ConfigEntries, Does.ContainKey("session.use_env_allocators").And.ContainKey("session.disable_cpu_ep_fallback"));
        using var session = new InferenceSession(Ort.Library, Ort.Bytes(TestModels.MatMulAddRelu()), options);
        Assert.That(session.Outputs, Has.Count.EqualTo(1));
    }

    [Test]
    public void ProfilingPrefix_SetThenCleared_LeavesProfilingOff()
    {
        var library = Ort.Library;
        using var options = new SessionOptions(library) { ProfilingPrefix = Path.Combine(Path.GetTempPath(), "edgeopt-never") };

        options.ProfilingPrefix = null;
        using var session = new InferenceSession(library, Ort.Bytes(TestModels.MatMulAddRelu()), options);

        Assert.That(session.ProfilingEnabled, Is.False);
    }

    [Test]
    public void CpuArena_OnAndOff_AreBothAccepted()
    {
        using var options = new SessionOptions(Ort.Library);

        options.AppendExecutionProvider("cpu", new Dictionary<string, string> { ["use_arena"] = "1" });
        options.AppendExecutionProvider("CPUExecutionProvider", new Dictionary<string, string> { ["use_arena"] = "false" });

        Assert.That(options.ExecutionProviders, Has.Count.EqualTo(2));
        Assert.Throws<ArgumentException>(() => options.AppendExecutionProvider("cpu", new Dictionary<string, string> { ["use_arena"] = "maybe" }));
    }

    [Test]
    public void IntraOpThreads_Negative_Throws()
    {
        using var options = new SessionOptions(Ort.Library);

        Assert.Throws<ArgumentOutOfRangeException>(() => options.IntraOpThreads = -1);
    }

    [Test]
    public void OptimizedModelPath_WritesALoadableModel()
    {
        var library = Ort.Library;
        var folder = Directory.CreateTempSubdirectory("edgeopt-ort-opt-").FullName;
        try
        {
            var path = Path.Combine(folder, "optimized.onnx");
            using (var options = new SessionOptions(library) { OptimizedModelPath = path })
            using (new InferenceSession(library, Ort.Bytes(TestModels.MatMulAddRelu()), options)) { }

            Assert.That(File.Exists(path), Is.True);
            using var reloaded = new InferenceSession(library, path);
            Assert.That(reloaded.InputNames, Is.EqualTo(new[] { "x" }));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
