using System.Text.Json;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

public class VerifyCommandTests
{
    private static string Mnist => TestPaths.RequireShared("models", "mnist-8.onnx");

    private static void RequireRuntime() => TestPaths.RequireArtifact("onnxruntime");

    /// <summary>mnist-8 with every weight of its last layer scaled by <paramref name="factor"/>, written to <paramref name="path"/>.</summary>
    private static string Perturbed(string path, float factor)
    {
        var model = ModelReader.Read(Mnist);
        var weight = model.Graph.Initializers.Where(v => v.Initializer!.DataType == TensorDataType.Float).MaxBy(v => v.Initializer!.ElementCount)!;
        var scaled = weight.Initializer!.ToSingles().Select((w, i) => i % 7 == 0 ? w * factor : w).ToArray();
        model.Graph.SetInitializer(weight, Tensor.Create(weight.Name, weight.Initializer.DimsArray(), scaled));
        ModelWriter.Write(model, path);
        return path;
    }

    [Test]
    public void Self_IsCosineOneWithZeroError()
    {
        RequireRuntime();
        using var dir = new TempDir();
        var file = dir.File("verify.json");

        var run = CliRunner.Run("verify", Mnist, Mnist, "--samples", "4", "--min-cosine", "0.999999", "--json", file);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        var json = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("samples").GetInt32(), Is.EqualTo(4));
            Assert.That(json.GetProperty("passed").GetBoolean(), Is.True);
            Assert.That(json.GetProperty("summary").GetProperty("minCosine").GetDouble(), Is.EqualTo(1.0));
            Assert.That(json.GetProperty("summary").GetProperty("maxAbsError").GetDouble(), Is.EqualTo(0.0));
            var output = json.GetProperty("outputs")[0];
            Assert.That(output.GetProperty("output").GetString(), Is.EqualTo("Plus214_Output_0"));
            Assert.That(output.GetProperty("versusReference").GetProperty("top1Agreement").GetDouble(), Is.EqualTo(1.0));
            Assert.That(output.GetProperty("versusReference").GetProperty("sqnrDb").GetString(), Is.EqualTo("Infinity"));
        });
        Assert.That(run.StdOut, Does.Contain("within bounds"));
    }

    [Test]
    public void Data_WithStoredOutputs_AlsoComparesWithThem()
    {
        RequireRuntime();
        var model = TestPaths.RequireShared("models", "msra_190729", "model.onnx");
        using var dir = new TempDir();
        var file = dir.File("verify.json");

        var run = CliRunner.Run("verify", model, model, "--data", Path.GetDirectoryName(model)!, "--json", file);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        var stored = JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("outputs")[0].GetProperty("versusStored");
        Assert.That(stored.GetProperty("maxAbsError").GetDouble(), Is.LessThan(1e-5));
        Assert.That(stored.GetProperty("cosine").GetDouble(), Is.GreaterThan(0.999999));
        Assert.That(run.StdOut, Does.Contain("mask vs stored"));
    }

    [Test]
    public void Candidate_BelowMinCosine_ExitsFourAndStillWritesTheReport()
    {
        RequireRuntime();
        using var dir = new TempDir();
        var candidate = Perturbed(dir.File("perturbed.onnx"), 1.5f);
        var file = dir.File("verify.json");

        var run = CliRunner.Run("verify", Mnist, candidate, "--min-cosine", "0.9999999", "--json", file);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.FidelityFailed), run.StdErr);
        Assert.That(run.StdErr, Does.Contain("cosine").And.Contain("< 0.9999999"));
        var json = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
        Assert.That(json.GetProperty("passed").GetBoolean(), Is.False);
        Assert.That(json.GetProperty("summary").GetProperty("maxAbsError").GetDouble(), Is.GreaterThan(0));
    }

    [Test]
    public void Candidate_SlightlyOff_PassesALooseBound()
    {
        RequireRuntime();
        using var dir = new TempDir();
        var candidate = Perturbed(dir.File("perturbed.onnx"), 1.01f);

        var run = CliRunner.Run("verify", Mnist, candidate, "--min-cosine", "0.99", "--min-top1", "0.5");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr + run.StdOut);
    }

    [Test]
    public void Threshold_AddsADecisionAgreementColumn()
    {
        RequireRuntime();

        var run = CliRunner.Run("verify", Mnist, Mnist, "--samples", "2", "--threshold", "0");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        Assert.That(run.StdOut, Does.Contain("threshold").And.Contain("100.00 %"));
    }

    [Test]
    public void Candidate_WithOtherOutputs_ExitsWithUsageErrorNamingThem()
    {
        RequireRuntime();
        var other = TestPaths.RequireShared("models", "ultraface_rfb320.onnx");

        var run = CliRunner.Run("verify", Mnist, other, "--samples", "1");

        Assert.That(run.ExitCode, Is.Not.EqualTo(ExitCodes.Ok));
        Assert.That(run.StdErr, Does.StartWith("edgeopt: error:"));
    }

    [Test]
    public void MinTop1_OutOfRange_ExitsWithUsageError()
    {
        var run = CliRunner.Run("verify", Mnist, Mnist, "--min-top1", "95");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("--min-top1"));
    }

    [Test]
    public void Inputs_NeverModified()
    {
        RequireRuntime();
        var before = File.ReadAllBytes(Mnist);

        CliRunner.Run("verify", Mnist, Mnist, "--samples", "1");

        Assert.That(File.ReadAllBytes(Mnist), Is.EqualTo(before));
    }
}

public class RuntimeCommandTests
{
    [Test]
    public void Json_NamesVersionApiAndCpuProvider()
    {
        TestPaths.RequireArtifact("onnxruntime");

        var run = CliRunner.Run("runtime", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        var json = JsonDocument.Parse(run.StdOut).RootElement;
        Assert.That(json.GetProperty("version").GetString(), Does.StartWith("1."));
        Assert.That(json.GetProperty("apiVersion").GetInt32(), Is.GreaterThanOrEqualTo(16));
        var cpu = json.GetProperty("providers").EnumerateArray().Single(p => p.GetProperty("provider").GetString() == "CPUExecutionProvider");
        Assert.That(cpu.GetProperty("usable").GetBoolean(), Is.True);
        Assert.That(cpu.GetProperty("name").GetString(), Is.EqualTo("cpu"));
    }

    [Test]
    public void OrtLib_Missing_ExitsThreeListingTheTriedPath()
    {
        var run = CliRunner.Run("runtime", "--ort-lib", "/nonexistent/ort");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Runtime));
        Assert.That(run.StdErr, Does.Contain("/nonexistent/ort"));
    }
}

public class PassesCommandTests
{
    [Test]
    public void Lists_EveryCatalogPassWithItsOptions()
    {
        var run = CliRunner.Run("passes");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        foreach (var id in EdgeOpt.Passes.Core.PassCatalog.CreateDefault().Passes.Select(p => p.Id)) Assert.That(run.StdOut, Does.Contain(id));
        Assert.That(run.StdOut, Does.Contain("ExcludeOpTypes = []"));
    }
}
