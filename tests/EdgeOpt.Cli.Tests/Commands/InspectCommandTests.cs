using System.Text.Json;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

public class InspectCommandTests
{
    [Test]
    public void Json_HasInterfaceOpsParametersSizeAndMacs()
    {
        var model = TestPaths.RequireShared("models", "mnist-8.onnx");

        var run = CliRunner.Run("inspect", model, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
        var json = JsonDocument.Parse(run.StdOut).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("irVersion").GetInt64(), Is.EqualTo(3));
            Assert.That(json.GetProperty("opsets").GetProperty("ai.onnx").GetInt64(), Is.EqualTo(8));
            Assert.That(json.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("macs").GetInt64()), Is.EqualTo(new long[] { 156_800, 627_200, 2_560 }));
            var input = json.GetProperty("inputs")[0];
            Assert.That(input.GetProperty("name").GetString(), Is.EqualTo("Input3"));
            Assert.That(input.GetProperty("elemType").GetString(), Is.EqualTo("float"));
            Assert.That(input.GetProperty("shape").EnumerateArray().Select(d => d.GetString()), Is.EqualTo(new[] { "1", "1", "28", "28" }));
            Assert.That(json.GetProperty("ops").GetProperty("Conv").GetInt32(), Is.EqualTo(2));
            Assert.That(json.GetProperty("parameters").GetInt64(), Is.EqualTo(5998));
            Assert.That(json.GetProperty("fileBytes").GetInt64(), Is.EqualTo(new FileInfo(model).Length));
            Assert.That(json.GetProperty("macs").GetInt64(), Is.EqualTo(786_560));
        });
    }

    [Test]
    public void DynamicInput_MacsNullUntilInputShapeGiven()
    {
        var model = TestPaths.RequireArtifact("models", "ppocrv4_det.onnx");

        var dynamic = JsonDocument.Parse(CliRunner.Run("inspect", model, "--json").StdOut).RootElement;
        var run = CliRunner.Run("inspect", model, "--json", "--input-shape", "x=1x3x640x640");

        Assert.That(dynamic.GetProperty("macs").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
        var json = JsonDocument.Parse(run.StdOut).RootElement;
        Assert.That(json.GetProperty("macs").GetInt64(), Is.GreaterThan(2_000_000_000L));
        Assert.That(json.GetProperty("outputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetString()), Is.EqualTo(new[] { "1", "1", "640", "640" }));
    }

    [Test]
    public void Tables_ShowShapesWithBrackets()
    {
        var run = CliRunner.Run("inspect", TestPaths.RequireShared("models", "ultraface_rfb320.onnx"));

        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
        Assert.That(run.StdOut, Does.Contain("float[1,3,240,320]").And.Contain("MACs"));
    }

    [Test]
    public void MissingFile_BadModelExit()
    {
        var run = CliRunner.Run("inspect", "/nonexistent/model.onnx");
        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.StdErr, Does.Contain("not found"));
    }

    [Test]
    public void TextFile_BadModelExitWithHint()
    {
        using var dir = new TempDir();
        var path = dir.File("notes.onnx");
        File.WriteAllText(path, "not a model at all");

        var run = CliRunner.Run("inspect", path);

        Assert.That(run.ExitCode, Is.EqualTo(2));
        Assert.That(run.StdErr, Does.Contain("not an ONNX model"));
    }

    [Test]
    public void TruncatedModel_BadModelExit()
    {
        using var dir = new TempDir();
        var path = dir.File("cut.onnx");
        var bytes = File.ReadAllBytes(TestPaths.RequireShared("models", "mnist-8.onnx"));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var run = CliRunner.Run("inspect", path);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.StdErr);
        Assert.That(run.StdErr, Does.StartWith("edgeopt: error:"));
    }

    [Test]
    public void ExternalDataEscapingTheModelFolder_BadModelExit()
    {
        using var dir = new TempDir();
        var model = TinyModels.MatMulAddRelu(k: 64, n: 64);
        var path = dir.File("m.onnx");
        Onnx.IO.ModelWriter.Write(model, path, new Onnx.IO.WriteOptions { ExternalDataThreshold = 0, ExternalDataFileName = "w.data" });
        var bytes = File.ReadAllBytes(path);
        var patched = System.Text.Encoding.Latin1.GetString(bytes).Replace("w.data", "../w.d");
        File.WriteAllBytes(path, System.Text.Encoding.Latin1.GetBytes(patched));

        var run = CliRunner.Run("inspect", path);

        Assert.That(run.ExitCode, Is.EqualTo(2), run.StdErr);
        Assert.That(run.StdErr, Does.Contain("../w.d"));
    }

    [Test]
    public void UnknownInputName_UsageExitListingInputs()
    {
        var run = CliRunner.Run("inspect", TestPaths.RequireShared("models", "mnist-8.onnx"), "--input-shape", "image=1x1x28x28");
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.StdErr, Does.Contain("'Input3'"));
    }

    [Test]
    public void MalformedInputShape_UsageExit()
    {
        var run = CliRunner.Run("inspect", TestPaths.RequireShared("models", "mnist-8.onnx"), "--input-shape", "Input3=1xAx28");
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.StdErr, Does.Contain("not a positive integer"));
    }
}
