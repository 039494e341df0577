using System.Text.Json;
using EdgeOpt.Onnx.IO;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

/// <summary><c>edgeopt optimize --quantize</c>: the passes, calibration through ONNX Runtime, the policy and the report.</summary>
public class OptimizeQuantizeTests
{
    private static string ClsModel => TestPaths.RequireArtifact("models", "ppocr_mobile_v2_cls.onnx");

    private static string ClsData => TestPaths.RequireShared("data", "ocr_cls");

    [Test]
    public void Static_CalibratesAndReportsNodesPolicyCalibrationAndSizes()
    {
        TestPaths.RequireArtifact("onnxruntime");
        var model = ClsModel;
        var data = ClsData;
        using var dir = new TempDir();
        var output = dir.File("cls.int8.onnx");
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", model, "-o", output, "--quantize", "static", "--calibration-data", data,
            "--calibration-method", "percentile", "--calibration-samples", "8", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(report.GetProperty("passes").EnumerateArray().Select(p => p.GetProperty("id").GetString()), Does.Contain("quantize-static"));
            Assert.That(report.GetProperty("quantizedNodes").GetArrayLength(), Is.GreaterThan(10));
            Assert.That(report.GetProperty("floatNodes").ValueKind, Is.EqualTo(JsonValueKind.Array));
            var calibration = report.GetProperty("calibration");
            Assert.That(calibration.GetProperty("method").GetString(), Is.EqualTo("percentile"));
            Assert.That(calibration.GetProperty("samples").GetInt32(), Is.EqualTo(8));
            Assert.That(calibration.GetProperty("tensors").GetInt32(), Is.GreaterThan(0));
            Assert.That(calibration.GetProperty("peakRssBytes").GetInt64(), Is.GreaterThan(0));
            var size = report.GetProperty("sizeBytes");
            Assert.That(size.GetProperty("after").GetInt64(), Is.LessThan(size.GetProperty("before").GetInt64() / 2));
            Assert.That(report.GetProperty("int8Policy").GetProperty("reason").GetString(), Is.Not.Empty);
        });
        Assert.That(ModelReader.Read(output).Graph.Nodes.Any(n => n.OpType == "QuantizeLinear"), Is.True);

        var verify = CliRunner.Run("verify", model, output, "--data", data, "--min-cosine", "0.9");
        Assert.That(verify.ExitCode, Is.EqualTo(ExitCodes.Ok), verify.StdErr + verify.StdOut);
    }

    [Test]
    public void Static_QOperatorForArm_UsesSignedActivationsAndQLinearConv()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var output = dir.File("cls.qop.onnx");
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", ClsModel, "-o", output, "--quantize", "static", "--calibration-data", ClsData,
            "--calibration-samples", "4", "--format", "qoperator", "--int8-target", "arm64-dotprod", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.That(report.GetProperty("calibration").GetProperty("method").GetString(), Is.EqualTo("percentile"), "the default method");
        var policy = report.GetProperty("int8Policy");
        Assert.That(policy.GetProperty("activationType").GetString(), Is.EqualTo("int8"));
        Assert.That(policy.GetProperty("target").GetString(), Is.EqualTo("arm64-dotprod"));
        Assert.That(ModelReader.Read(output).Graph.Nodes.Count(n => n.OpType == "QLinearConv"), Is.GreaterThan(0));
        Assert.That(CliRunner.Run("bench", output, "--input-shape", "x=1x3x48x192", "--runs", "2", "--warmup", "0", "--no-node-count").ExitCode, Is.EqualTo(ExitCodes.Ok));
    }

    [Test]
    public void Dynamic_OnMatMulModel_RunsAndShrinksWeights()
    {
        TestPaths.RequireArtifact("onnxruntime");
        var model = TestPaths.RequireArtifact("models", "openwakeword", "hey_jarvis_v0.1.onnx");
        using var dir = new TempDir();
        var output = dir.File("head.int8.onnx");
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", model, "-o", output, "--quantize", "dynamic", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.That(report.GetProperty("quantizedNodes").GetArrayLength(), Is.GreaterThan(0));
        Assert.That(report.GetProperty("calibration").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(CliRunner.Run("verify", model, output, "--samples", "3", "--min-cosine", "0.95").ExitCode, Is.EqualTo(ExitCodes.Ok));
    }

    [Test]
    public void Static_WithoutCalibrationData_ExitsWithUsageErrorAndWritesNothing()
    {
        using var dir = new TempDir();
        var output = dir.File("out.onnx");

        var run = CliRunner.Run("optimize", TestPaths.RequireShared("models", "mnist-8.onnx"), "-o", output, "--quantize", "static");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("--calibration-data"));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void Static_CalibrationDataOfAnotherModel_ExitsWithUsageErrorAndWritesNothing()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var output = dir.File("out.onnx");

        var run = CliRunner.Run("optimize", ClsModel, "-o", output, "--quantize", "static", "--calibration-data", TestPaths.RequireShared("data", "ultraface_rfb320"));

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.StdErr + run.StdOut);
        Assert.That(run.StdErr, Does.Contain("edgeopt: error:"));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void Static_EmptyCalibrationFolder_ExitsWithUsageError()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var empty = Directory.CreateDirectory(dir.File("empty")).FullName;

        var run = CliRunner.Run("optimize", ClsModel, "-o", dir.File("out.onnx"), "--quantize", "static", "--calibration-data", empty);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.StdErr + run.StdOut);
        Assert.That(run.StdErr, Does.Contain(empty));
    }

    [TestCase("--quantize", "int4", "dynamic or static")]
    [TestCase("--format", "tflite", "qdq or qoperator")]
    [TestCase("--activation-type", "u16", "u8 or s8")]
    [TestCase("--int8-target", "pentium", "unknown int8 target")]
    [TestCase("--calibration-method", "median", "unknown calibration method")]
    [TestCase("--accuracy-target", "rmse=0.1", "cosine or top1")]
    [TestCase("--accuracy-target", "cosine=2", "number in (0, 1]")]
    [TestCase("--sensitivity-method", "random", "isolated or leave-one-out")]
    [TestCase("--float-stem-channels", "-1", "--float-stem-channels -1 is negative")]
    public void Options_Unknown_ExitWithUsageErrorListingTheChoices(string option, string value, string message)
    {
        using var dir = new TempDir();
        var args = new List<string> { "optimize", TestPaths.RequireShared("models", "mnist-8.onnx"), "-o", dir.File("out.onnx"), option, value };
        if (option != "--quantize") args.AddRange(["--quantize", "static", "--calibration-data", dir.Path]);

        var run = CliRunner.Run([.. args]);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain(message));
    }

    [Test]
    public void AccuracyTarget_KeepsTheMeasuredNodesFloat_AndReportsTheSearch()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var output = dir.File("cls.int8.onnx");
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", ClsModel, "-o", output, "--quantize", "static", "--calibration-data", ClsData, "--calibration-samples", "4",
            "--accuracy-target", "cosine=0.999999", "--eval-data", ClsData, "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
        var accuracy = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("accuracy");
        var allInt8 = accuracy.GetProperty("allInt8").GetDouble();
        var final = accuracy.GetProperty("final").GetDouble();
        var floatNodes = accuracy.GetProperty("floatNodes").EnumerateArray().Select(n => n.GetProperty("node").GetString()!).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(accuracy.GetProperty("met").GetBoolean(), Is.True);
            Assert.That(accuracy.GetProperty("samples").GetInt32(), Is.EqualTo(16));
            Assert.That(final, Is.GreaterThanOrEqualTo(0.999999));
            Assert.That(floatNodes.Count == 0, Is.EqualTo(allInt8 >= 0.999999), "nodes stay float only when the fully quantized model misses the target");
            Assert.That(accuracy.GetProperty("evaluations").GetInt32(), Is.GreaterThanOrEqualTo(1));
        });
        var report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        var passFloat = report.GetProperty("floatNodes").EnumerateArray().ToDictionary(n => n.GetProperty("node").GetString()!, n => n.GetProperty("reason").GetString()!);
        var passInt8 = report.GetProperty("quantizedNodes").EnumerateArray().Select(n => n.GetProperty("node").GetString()!).ToList();
        foreach (var name in floatNodes)
        {
            Assert.That(passFloat.Where(p => p.Key.StartsWith(name + " (", StringComparison.Ordinal)).Select(p => p.Value), Has.One.Contains("ExcludeNodes"), name);
            Assert.That(passInt8.Where(n => n.StartsWith(name + " (", StringComparison.Ordinal)), Is.Empty, name);
        }
        Assert.That(CliRunner.Run("verify", ClsModel, output, "--data", ClsData, "--min-cosine", "0.999999").ExitCode, Is.EqualTo(ExitCodes.Ok));
    }

    [Test]
    public void AccuracyTarget_Unreachable_ExitsFidelityFailedAfterWritingTheBestMeasured()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var output = dir.File("cls.int8.onnx");
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", ClsModel, "-o", output, "--quantize", "static", "--calibration-data", ClsData, "--calibration-samples", "4",
            "--accuracy-target", "cosine=1", "--max-float-nodes", "0", "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.FidelityFailed), run.StdErr + run.StdOut);
        Assert.That(run.StdErr, Does.Contain("not met").And.Contain("--max-float-nodes"));
        var accuracy = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("accuracy");
        Assert.That(accuracy.GetProperty("met").GetBoolean(), Is.False);
        Assert.That(accuracy.GetProperty("floatNodes").GetArrayLength(), Is.Zero);
        Assert.That(File.Exists(output), Is.True);
    }

    [Test]
    public void AccuracyTarget_WithoutQuantize_ExitsWithUsageError()
    {
        using var dir = new TempDir();

        var run = CliRunner.Run("optimize", TestPaths.RequireShared("models", "mnist-8.onnx"), "-o", dir.File("out.onnx"), "--accuracy-target", "cosine=0.99");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("--quantize"));
    }
}
