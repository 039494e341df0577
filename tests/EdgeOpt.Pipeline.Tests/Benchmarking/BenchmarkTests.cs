using EdgeOpt.Onnx.IO;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;
using EdgeOpt.TestKit;

namespace EdgeOpt.Pipeline.Tests.Benchmarking;

public class BenchmarkTests
{
    private string _dir = "";
    private string _model = "";

    [SetUp]
    public void WriteModel()
    {
        TestPaths.RequireArtifact("onnxruntime");
        _dir = Directory.CreateTempSubdirectory("edgeopt-bench-").FullName;
        _model = Path.Combine(_dir, "tiny.onnx");
        ModelWriter.Write(TinyModels.MatMulAddRelu(k: 8, n: 4), _model);
    }

    [TearDown]
    public void Remove()
    {
        if (_dir.Length > 0) Directory.Delete(_dir, recursive: true);
    }

    private IReadOnlyList<EdgeOpt.Pipeline.Data.Sample> Samples(int count)
    {
        var model = ModelReader.Read(_model);
        return BenchmarkInputs.Create(model, null, new Dictionary<string, long[]>(), null, count);
    }

    [Test]
    public void Run_FixedCount_TimesExactlyThatManyAndCountsNodes()
    {
        var progress = new List<BenchmarkProgress>();

        var result = Benchmark.Run(_model, Samples(3), new RuntimeSettings(IntraOpThreads: 1), new BenchmarkOptions(Warmup: 2, Runs: 64),
            new SyncProgress(progress.Add));

        Assert.Multiple(() =>
        {
            Assert.That(result.Runs, Is.EqualTo(64));
            Assert.That(result.Ep, Is.EqualTo("cpu"));
            Assert.That(result.Threads, Is.EqualTo(1));
            Assert.That(result.LatencyMs.Min, Is.GreaterThan(0).And.LessThanOrEqualTo(result.LatencyMs.P50));
            Assert.That(result.ThroughputPerSec, Is.GreaterThan(0));
            Assert.That(result.NodesTotal, Is.GreaterThan(0));
            Assert.That(result.NodesOnEp, Is.EqualTo(result.NodesTotal));
            Assert.That(progress.Where(p => p.Phase == "timed").Select(p => p.Done), Is.Ordered.And.Contains(64L));
            Assert.That(progress.Where(p => p.Phase == "warmup"), Has.Exactly(2).Items);
        });
    }

    [Test]
    public void Run_FourLoops_ClaimTheRunsBetweenThem()
    {
        var result = Benchmark.Run(_model, Samples(1), new RuntimeSettings(IntraOpThreads: 1),
            new BenchmarkOptions(Warmup: 0, Runs: 101, Concurrency: 4, ProfileNodes: false));

        Assert.That(result.Runs, Is.EqualTo(101));
        Assert.That(result.Concurrency, Is.EqualTo(4));
        Assert.That(result.NodesTotal, Is.Null);
    }

    [Test]
    public void Run_MissingProvider_ThrowsListingWhatTheLibraryHas()
    {
        var e = Assert.Throws<ExecutionProviderException>(() =>
            Benchmark.Run(_model, Samples(1), new RuntimeSettings(ExecutionProvider: "xnnpack"), new BenchmarkOptions(Runs: 1)));

        Assert.That(e!.AvailableProviders, Does.Contain("CPUExecutionProvider"));
    }

    [TestCase(-1, 1, 1)]
    [TestCase(0, 0, 1)]
    [TestCase(0, 1, 0)]
    public void Options_Invalid_AreRejectedWithTheOptionName(int warmup, int runs, int concurrency)
    {
        var options = new BenchmarkOptions(warmup, runs, Concurrency: concurrency);

        Assert.That(options.Validate().ToList(), Has.Count.EqualTo(1).And.Some.StartsWith("--"));
        Assert.Throws<ArgumentException>(() => Benchmark.Run(_model, Samples(1), new RuntimeSettings(), options));
    }

    [Test]
    public void Inputs_BatchOnAStaticModel_LeavesShapesAlone()
    {
        var model = ModelReader.Read(_model);

        var sample = BenchmarkInputs.Create(model, null, new Dictionary<string, long[]>(), 7, 1)[0];

        Assert.That(sample.Inputs.Values.Single().Dims, Is.EqualTo(model.Graph.Inputs[0].TensorType!.StaticShape));
    }

    private sealed class SyncProgress(Action<BenchmarkProgress> report) : IProgress<BenchmarkProgress>
    {
        public void Report(BenchmarkProgress value) => report(value);
    }
}
