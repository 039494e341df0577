using System.Security.Cryptography;
using EdgeOpt.Onnx.IO;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

public class OptimizeCommandTests
{
    [Test]
    public void RealModel_WritesValidModelAndLeavesInputUntouched()
    {
        var input = TestPaths.RequireShared("models", "ultraface_rfb320.onnx");
        var before = Sha256(input);
        using var dir = new TempDir();
        var output = dir.File("out.onnx");
        var json = dir.File("report.json");

        var run = CliRunner.Run("optimize", input, "-o", output, "--json", json);

        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
        Assert.That(Sha256(input), Is.EqualTo(before), "the input model must never change");
        var model = ModelReader.Read(output);
        Assert.That(model.Graph.Outputs.Select(o => o.Name), Is.EqualTo(new[] { "scores", "boxes" }));
        Assert.That(File.ReadAllText(json), Does.Contain("\"id\": \"eliminate-dead-code\""));
        Assert.That(Directory.GetFiles(dir.Path), Has.Length.EqualTo(2), "only the model and the JSON report are written");
    }

    [Test]
    public void OutputIsTheInput_RefusedWithUsageError()
    {
        using var dir = new TempDir();
        var input = dir.File("m.onnx");
        File.Copy(TestPaths.RequireShared("models", "mnist-8.onnx"), input);
        var before = Sha256(input);

        var run = CliRunner.Run("optimize", input, "-o", input);

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.StdErr, Does.Contain("never overwrites its input"));
        Assert.That(Sha256(input), Is.EqualTo(before));
    }

    [Test]
    public void OutputFolderMissing_FailsAndWritesNothing()
    {
        using var dir = new TempDir();
        var run = CliRunner.Run("optimize", TestPaths.RequireShared("models", "mnist-8.onnx"), "-o", dir.File("missing/out.onnx"));

        Assert.That(run.ExitCode, Is.Not.EqualTo(0));
        Assert.That(run.StdErr, Does.Contain("does not exist"));
        Assert.That(Directory.EnumerateFileSystemEntries(dir.Path), Is.Empty);
    }

    [Test]
    public void UnknownPass_UsageErrorListsKnownPasses()
    {
        using var dir = new TempDir();
        var run = CliRunner.Run("optimize", TestPaths.RequireShared("models", "mnist-8.onnx"), "-o", dir.File("o.onnx"), "--passes", "fold-everything");

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.StdErr, Does.Contain("unknown pass 'fold-everything'").And.Contain("fold-batchnorm"));
        Assert.That(Directory.EnumerateFileSystemEntries(dir.Path), Is.Empty);
    }

    [Test]
    public void ExternalDataThreshold_WritesDataFileThatReloads()
    {
        using var dir = new TempDir();
        var output = dir.File("sr.onnx");
        var run = CliRunner.Run("optimize", TestPaths.RequireShared("models", "super-resolution-10", "model.onnx"), "-o", output,
            "--external-data-threshold", "1024");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.StdErr);
        Assert.That(File.Exists(output + ".data"), Is.True);
        var model = ModelReader.Read(output);
        Assert.That(model.Graph.Initializers.Count(v => v.Initializer!.External != null), Is.GreaterThan(0));
    }

    [Test]
    public void RemoveInitializerInputs_OnlyWhenAsked()
    {
        using var dir = new TempDir();
        var input = TestPaths.RequireShared("models", "mnist-8.onnx");
        var plain = dir.File("plain.onnx");
        var trimmed = dir.File("trimmed.onnx");

        Assert.That(CliRunner.Run("optimize", input, "-o", plain).ExitCode, Is.EqualTo(0));
        Assert.That(CliRunner.Run("optimize", input, "-o", trimmed, "--remove-initializer-inputs").ExitCode, Is.EqualTo(0));

        Assert.That(ModelReader.Read(plain).Graph.Inputs, Has.Count.GreaterThan(1), "by default the interface is kept");
        Assert.That(ModelReader.Read(trimmed).Graph.Inputs.Select(i => i.Name), Is.EqualTo(new[] { "Input3" }));
    }

    private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
