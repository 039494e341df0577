using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.TestKit;

namespace EdgeOpt.Pipeline.Tests.Data;

public class TestDataSetsTests
{
    [Test]
    public void MsraSegmentation_LoadsInputAndReferenceOutputByPosition()
    {
        var dir = TestPaths.RequireShared("models", "msra_190729");
        var model = ModelReader.Read(Path.Combine(dir, "model.onnx"));

        var samples = TestDataSets.Load(dir, Inputs(model), model.Graph.Outputs);

        Assert.That(samples, Has.Count.EqualTo(1));
        Assert.That(samples[0].Inputs.Keys, Is.EqualTo(new[] { "bgrm" }));
        Assert.That(samples[0].Inputs["bgrm"].Dims[1], Is.EqualTo(4));
        Assert.That(samples[0].ExpectedOutputs.Keys, Is.EqualTo(new[] { "mask" }));
    }

    [Test]
    public void WrongInputCount_ErrorNamesTheModelInputs()
    {
        using var dir = new TempFolder();
        var set = Directory.CreateDirectory(Path.Combine(dir.Path, "test_data_set_0")).FullName;
        TensorFiles.Write(Path.Combine(set, "input_0.pb"), Tensor.Create("x", [1, 4], new float[4]));
        TensorFiles.Write(Path.Combine(set, "input_1.pb"), Tensor.Create("y", [1, 4], new float[4]));
        var model = TinyModels.MatMulAddRelu(k: 4);

        var e = Assert.Throws<ArgumentException>(() => TestDataSets.Load(dir.Path, Inputs(model), model.Graph.Outputs))!;

        Assert.That(e.Message, Does.Contain("2 input files").And.Contain("1 inputs (x)"));
    }

    [Test]
    public void WrongShape_ErrorShowsBothShapes()
    {
        using var dir = new TempFolder();
        TensorFiles.Write(Path.Combine(dir.Path, "input_0.pb"), Tensor.Create("x", [1, 5], new float[5]));
        var model = TinyModels.MatMulAddRelu(k: 4);

        var e = Assert.Throws<ArgumentException>(() => TestDataSets.Load(dir.Path, Inputs(model), model.Graph.Outputs))!;

        Assert.That(e.Message, Does.Contain("[1,5]").And.Contain("float[1,4]"));
    }

    [Test]
    public void EmptyFolder_ErrorExplainsLayout()
    {
        using var dir = new TempFolder();
        var model = TinyModels.MatMulAddRelu();
        var e = Assert.Throws<ArgumentException>(() => TestDataSets.Load(dir.Path, Inputs(model), model.Graph.Outputs))!;
        Assert.That(e.Message, Does.Contain("test_data_set_0/input_0.pb"));
    }

    [Test]
    public void RandomInputs_DynamicDimWithoutShape_ErrorSuggestsOption()
    {
        var model = ModelReader.Read(TestPaths.RequireArtifact("models", "ppocrv4_det.onnx"));
        var e = Assert.Throws<ArgumentException>(() => RandomInputs.Generate(Inputs(model), new Dictionary<string, long[]>(), 1))!;
        Assert.That(e.Message, Does.Contain("--input-shape x="));
    }

    [Test]
    public void RandomInputs_SameSeedSameData()
    {
        var model = TinyModels.MatMulAddRelu(k: 8);
        var a = RandomInputs.Generate(Inputs(model), new Dictionary<string, long[]>(), 7).Inputs["x"].ToSingles();
        var b = RandomInputs.Generate(Inputs(model), new Dictionary<string, long[]>(), 7).Inputs["x"].ToSingles();
        var c = RandomInputs.Generate(Inputs(model), new Dictionary<string, long[]>(), 8).Inputs["x"].ToSingles();
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(c));
    }

    private static List<Value> Inputs(Model model) => [.. model.Graph.Inputs.Where(i => i.Initializer == null)];

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("edgeopt-data-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
