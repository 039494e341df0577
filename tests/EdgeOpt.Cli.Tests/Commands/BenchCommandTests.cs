using System.Text.Json;
using EdgeOpt.Cli.Commands;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

public class BenchCommandTests
{
    private static readonly string[] SchemaKeys =
    [
        "model", "ortVersion", "ep", "threads", "concurrency", "runs", "sessionLoadMs", "firstRunMs", "latencyMs",
        "throughputPerSec", "peakRssBytes", "nodesOnEp", "nodesTotal",
    ];

    private static string Mnist => TestPaths.RequireShared("models", "mnist-8.onnx");

    private static void RequireRuntime() => TestPaths.RequireArtifact("onnxruntime");

    [Test]
    public void Json_Mnist_HasTheSchemaWithOrderedPercentilesAndEveryNodeOnCpu()
    {
        RequireRuntime();
        using var dir = new TempDir();
        var file = dir.File("bench.json");

        var run = CliRunner.Run("bench", Mnist, "--runs", "50", "--warmup", "2", "--threads", "1", "--json", file);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        var json = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
        Assert.That(json.ValueKind, Is.EqualTo(JsonValueKind.Object));
        Assert.That(json.EnumerateObject().Select(p => p.Name), Is.EqualTo(SchemaKeys));
        var latency = json.GetProperty("latencyMs");
        var ordered = new[] { "min", "p50", "p90", "p99", "max" }.Select(k => latency.GetProperty(k).GetDouble()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("ep").GetString(), Is.EqualTo("cpu"));
            Assert.That(json.GetProperty("ortVersion").GetString(), Does.StartWith("1."));
            Assert.That(json.GetProperty("threads").GetInt32(), Is.EqualTo(1));
            Assert.That(json.GetProperty("runs").GetInt64(), Is.EqualTo(50));
            Assert.That(ordered, Is.Ordered, "min ≤ p50 ≤ p90 ≤ p99 ≤ max");
            Assert.That(ordered[0], Is.GreaterThan(0));
            Assert.That(latency.GetProperty("mean").GetDouble(), Is.InRange(ordered[0], ordered[^1]));
            Assert.That(json.GetProperty("throughputPerSec").GetDouble(), Is.GreaterThan(0));
            Assert.That(json.GetProperty("peakRssBytes").GetInt64(), Is.GreaterThan(10L << 20));
            Assert.That(json.GetProperty("nodesTotal").GetInt32(), Is.GreaterThan(0));
            Assert.That(json.GetProperty("nodesOnEp").GetInt32(), Is.EqualTo(json.GetProperty("nodesTotal").GetInt32()));
        });
    }

    [Test]
    public void Concurrency_TwoLoops_ShareTheRunCount()
    {
        RequireRuntime();
        using var dir = new TempDir();
        var file = dir.File("bench.json");

        var run = CliRunner.Run("bench", Mnist, "--runs", "40", "--warmup", "0", "--concurrency", "2", "--no-node-count", "--json", file);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        var json = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
        Assert.That(json.GetProperty("concurrency").GetInt32(), Is.EqualTo(2));
        Assert.That(json.GetProperty("runs").GetInt64(), Is.EqualTo(40));
        Assert.That(json.GetProperty("nodesOnEp").ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    [Test]
    public void Duration_TimesUntilTheDeadline()
    {
        RequireRuntime();
        using var dir = new TempDir();
        var file = dir.File("bench.json");

        var run = CliRunner.Run("bench", Mnist, "--duration", "0.3", "--warmup", "0", "--no-node-count", "--json", file);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        Assert.That(JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("runs").GetInt64(), Is.GreaterThan(1));
    }

    [Test]
    public void Output_Redirected_PrintsATableWithoutEscapeCodesOrProgress()
    {
        RequireRuntime();

        var run = CliRunner.Run("bench", Mnist, "--runs", "5", "--warmup", "0");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        Assert.That(run.StdOut, Does.Contain("latency p50").And.Contain("nodes on EP").And.Not.Contain("\u001b["));
        Assert.That(run.StdErr, Does.Contain("ONNX Runtime 1."));
    }

    [Test]
    public void Ep_TheLibraryLacks_ExitsWithRuntimeErrorListingWhatItHas()
    {
        RequireRuntime();

        var run = CliRunner.Run("bench", Mnist, "--ep", "xnnpack", "--runs", "1");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Runtime));
        Assert.That(run.StdErr, Does.Contain("XnnpackExecutionProvider").And.Contain("CPUExecutionProvider").And.Contain("--ort-lib"));
    }

    [Test]
    public void Ep_Unknown_ExitsWithRuntimeErrorNamingTheKnownNames()
    {
        RequireRuntime();

        var run = CliRunner.Run("bench", Mnist, "--ep", "warp-drive", "--runs", "1");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Runtime));
        Assert.That(run.StdErr, Does.Contain("unknown execution provider 'warp-drive'").And.Contain("tensorrt"));
    }

    [Test]
    public void OrtLib_Missing_ExitsWithRuntimeErrorNamingThePath()
    {
        var run = CliRunner.Run("bench", Mnist, "--ort-lib", "/nonexistent/libonnxruntime.so.1", "--runs", "1");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Runtime));
        Assert.That(run.StdErr, Does.Contain("/nonexistent/libonnxruntime.so.1"));
    }

    [Test]
    public void DynamicInput_WithoutShape_ExitsWithUsageErrorShowingTheOption()
    {
        RequireRuntime();
        var model = TestPaths.RequireArtifact("models", "ppocrv4_det.onnx");

        var run = CliRunner.Run("bench", model, "--runs", "1");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("input 'x' has a dynamic shape").And.Contain("--input-shape x=Nx3xNxN"));
    }

    [Test]
    public void Batch_FillsTheDynamicLeadingDimension()
    {
        RequireRuntime();
        var model = TestPaths.RequireArtifact("models", "openwakeword", "embedding_model.onnx");

        var run = CliRunner.Run("bench", model, "--batch", "2", "--runs", "2", "--warmup", "0", "--no-node-count");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
    }

    [Test]
    public void InputShape_ForAnInputTheModelLacks_ExitsWithUsageErrorListingItsInputs()
    {
        RequireRuntime();

        var run = CliRunner.Run("bench", Mnist, "--input-shape", "image=1x1x28x28", "--runs", "1");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("'image'").And.Contain("'Input3'"));
    }

    [Test]
    public void Inputs_FromAnotherModel_ExitsWithUsageErrorNamingTheMismatch()
    {
        RequireRuntime();
        var otherData = TestPaths.RequireShared("models", "msra_190729");

        var run = CliRunner.Run("bench", Mnist, "--inputs", otherData, "--runs", "1");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("test_data_set_0").And.Contain("Input3"));
    }

    [Test]
    public void Inputs_RealData_AreUsed()
    {
        RequireRuntime();
        var model = TestPaths.RequireShared("models", "msra_190729", "model.onnx");

        var run = CliRunner.Run("bench", model, "--inputs", Path.GetDirectoryName(model)!, "--runs", "2", "--warmup", "0", "--no-node-count");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        Assert.That(run.StdErr, Does.Contain("1 input sets from"));
    }

    [Test]
    public void Model_NotOnnx_ExitsWithBadModel()
    {
        using var dir = new TempDir();
        var file = dir.File("broken.onnx");
        File.WriteAllText(file, "this is not a protobuf");

        var run = CliRunner.Run("bench", file, "--runs", "1");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.BadModel));
        Assert.That(run.StdErr, Does.Contain("broken.onnx"));
    }

    [TestCase("--runs", "0")]
    [TestCase("--concurrency", "0")]
    [TestCase("--warmup", "-1")]
    [TestCase("--threads", "-2")]
    [TestCase("--optimization-level", "max")]
    public void Options_OutOfRange_ExitWithUsageErrorNamingTheOption(string option, string value)
    {
        var run = CliRunner.Run("bench", Mnist, option, value);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain(option == "--optimization-level" ? "optimization level" : option));
    }

    [Test]
    public void ToJson_SeveralProviders_IsAnArrayOneProviderAnObject()
    {
        var stats = new LatencyStats(1, 2, 2, 3, 4, 5);
        BenchmarkResult Result(string ep) => new("m.onnx", "1.30.0", ep, 1, 1, 10, 5, 6, stats, 500, 1 << 20, 3, 4);

        var one = Json.Serialize(BenchCommand.ToJson([Result("cpu")]));
        var two = Json.Serialize(BenchCommand.ToJson([Result("cpu"), Result("cuda")]));

        Assert.That(JsonDocument.Parse(one).RootElement.ValueKind, Is.EqualTo(JsonValueKind.Object));
        var array = JsonDocument.Parse(two).RootElement;
        Assert.That(array.EnumerateArray().Select(e => e.GetProperty("ep").GetString()), Is.EqualTo(new[] { "cpu", "cuda" }));
        Assert.That(array[0].EnumerateObject().Select(p => p.Name), Is.EqualTo(SchemaKeys));
    }
}
