using EdgeOpt.Runtime.Profiling;

namespace EdgeOpt.Runtime.Tests.Profiling;

public class ProfileReportTests
{
    [Test]
    public void Profile_TinyModelRunFiveTimes_EveryNodeOnCpuAndCountsMatch()
    {
        var library = Ort.Library;
        var folder = Directory.CreateTempSubdirectory("edgeopt-ort-profile-").FullName;
        try
        {
            using var options = new SessionOptions(library)
            {
                GraphOptimizationLevel = GraphOptimizationLevel.Disabled,
                ProfilingPrefix = Path.Combine(folder, "tiny"),
            };
            var model = TestModels.MatMulAddRelu();
            using var session = new InferenceSession(library, Ort.Bytes(model), options);
            using var x = OrtValue.CreateTensor(library, new float[] { 1, 2, 3, 4 }, [1, 4]);
            for (var i = 0; i < 5; i++)
            {
                using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });
            }

            var path = session.EndProfiling();
            var report = ProfileReport.Load(path);

            Assert.That(Path.GetDirectoryName(path), Is.EqualTo(folder));
            Assert.That(report.RunCount, Is.EqualTo(5));
            Assert.That(report.ProviderByNode.Keys, Is.EquivalentTo(model.Graph.Nodes.Select(n => n.Name)));
            Assert.That(report.ProviderByNode.Values, Is.All.EqualTo("CPUExecutionProvider"));
            var cpu = report.ByProvider.Single();
            Assert.That(cpu.Provider, Is.EqualTo("CPUExecutionProvider"));
            Assert.That(cpu.NodeCount, Is.EqualTo(3));
            Assert.That(cpu.ExecutionCount, Is.EqualTo(15));
            Assert.That(report.ByOpType.Select(o => o.OpType), Is.EquivalentTo(new[] { "MatMul", "Add", "Relu" }));
            Assert.That(report.ByOpType, Has.All.Property(nameof(OpTypeSummary.ExecutionCount)).EqualTo(5));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Parse_SyntheticTrace_AggregatesByProviderAndOpType()
    {
        const string json = """
            [
              {"cat":"Session","name":"model_loading_array","dur":100,"ts":1,"args":{}},
              {"cat":"Node","name":"conv1_fence_before","dur":0,"ts":10,"args":{"op_name":"Conv"}},
              {"cat":"Node","name":"conv1_kernel_time","dur":40,"ts":10,"args":{"op_name":"Conv","provider":"CUDAExecutionProvider"}},
              {"cat":"Node","name":"conv2_kernel_time","dur":60,"ts":50,"args":{"op_name":"Conv","provider":"CUDAExecutionProvider"}},
              {"cat":"Node","name":"nms_kernel_time","dur":"25","ts":110,"args":{"op_name":"NonMaxSuppression","provider":"CPUExecutionProvider"}},
              {"cat":"Session","name":"model_run","dur":130,"ts":5,"args":{}},
              {"cat":"Node","name":"conv1_kernel_time","dur":30,"ts":200,"args":{"op_name":"Conv","provider":"CUDAExecutionProvider"}},
            ]
            """;

        var report = ProfileReport.Parse(json);

        Assert.That(report.Executions, Has.Count.EqualTo(4));
        Assert.That(report.RunCount, Is.EqualTo(1));
        Assert.That(report.RunMicroseconds, Is.EqualTo(130));
        Assert.That(report.ByProvider, Is.EqualTo(new[]
        {
            new ProviderSummary("CUDAExecutionProvider", 2, 3, 130),
            new ProviderSummary("CPUExecutionProvider", 1, 1, 25),
        }));
        Assert.That(report.ByOpType[0], Is.EqualTo(new OpTypeSummary("Conv", "CUDAExecutionProvider", 2, 3, 130)));
        Assert.That(report.ProviderByNode["nms"], Is.EqualTo("CPUExecutionProvider"));
    }

    [Test]
    public void Parse_NotAnArray_ThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => ProfileReport.Parse("{\"cat\":\"Node\"}"));
        Assert.Throws<FormatException>(() => ProfileReport.Parse("not json"));
    }
}
