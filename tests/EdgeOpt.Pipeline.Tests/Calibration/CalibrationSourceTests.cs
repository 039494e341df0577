using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Data.Images;
using EdgeOpt.Pipeline.Tests.Data;
using EdgeOpt.TestKit;
using static EdgeOpt.Pipeline.Tests.Calibration.CalibrationTestKit;

namespace EdgeOpt.Pipeline.Tests.Calibration;

public class CalibrationSourceTests
{
    /// <summary>y = Relu(x·w + b), x: float[1,4].</summary>
    private static readonly Model Tiny = TinyModels.MatMulAddRelu(k: 4);

    private static Model TwoInputs()
    {
        var g = new GraphBuilder();
        var a = g.Input("a", 1, 4);
        var b = g.Input("b:0", 1, 4);
        return g.Outputs(g.Op(OpTypes.Add, [a, b], "y")).Build();
    }

    private static Model ImageModel(string layout = "nchw")
    {
        var g = new GraphBuilder();
        var x = layout == "nchw" ? g.Input("image", 1, 3, 8, 6) : g.Input("image", 1, 8, 6, 3);
        return g.Outputs(g.Op(OpTypes.Relu, [x], "y")).Build();
    }

    private static void WritePng(string path, int width, int height) =>
        File.WriteAllBytes(path, PngWriter.Encode(width, height, 2, 8, (x, y) => [(byte)(x * 10), (byte)(y * 10), 200]));

    [Test]
    public void TestDataLayout_SharedSet_StreamsSamplesWithoutStoredOutputs()
    {
        var dir = TestPaths.RequireShared("data", "ocr_det");
        var model = ModelReader.Read(TestPaths.RequireArtifact("models", "ppocrv4_det.onnx"));

        var source = CalibrationSource.Open(dir, model);
        var first = source.First();

        Assert.That((source.Layout, source.Count), Is.EqualTo((CalibrationDataLayout.TestData, 4)));
        Assert.That(first.Inputs["x"].Dims, Is.EqualTo(new long[] { 1, 3, 320, 320 }));
        Assert.That(first.ExpectedOutputs, Is.Empty, "calibration does not read the reference outputs");
        Assert.That(source.Description, Does.Contain("4 samples (ONNX test data)"));
    }

    [Test]
    public void Npy_FolderPerSample()
    {
        using var dir = new TempFolder();
        foreach (var k in new[] { "b", "a", "c" }) WriteNpy(Path.Combine(dir.Sub(k), "x.npy"), [1, 4], Uniform(4, -1, 1, k[0]));

        var source = CalibrationSource.Open(dir.Path, Tiny);
        var samples = source.ToList();

        Assert.That((source.Layout, source.Count), Is.EqualTo((CalibrationDataLayout.Npy, 3)));
        Assert.That(samples.Select(s => Path.GetFileName(s.Source)), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(samples[0].Inputs["x"].ToArray<float>(), Is.EqualTo(Uniform(4, -1, 1, 'a')));
    }

    [Test]
    public void Npy_FlatNumbered_NumericOrder()
    {
        using var dir = new TempFolder();
        foreach (var k in new[] { 0, 1, 2, 10 }) WriteNpy(Path.Combine(dir.Path, $"x_{k}.npy"), [1, 4], new[] { k, 0f, 0f, 0f });

        var firsts = CalibrationSource.Open(dir.Path, Tiny).Select(s => s.Inputs["x"].AsSpan<float>()[0]).ToList();

        Assert.That(firsts, Is.EqualTo(new[] { 0f, 1f, 2f, 10f }));
    }

    [Test]
    public void Npy_SingleSample_AndInputNamesWithColons()
    {
        using var dir = new TempFolder();
        WriteNpy(Path.Combine(dir.Path, "a.npy"), [1, 4], new float[4]);
        WriteNpy(Path.Combine(dir.Path, "b_0.npy"), [1, 4], new float[4]);

        var source = CalibrationSource.Open(dir.Path, TwoInputs());

        Assert.That(CalibrationSource.FileStem("b:0"), Is.EqualTo("b_0"));
        Assert.That(source.Count, Is.EqualTo(1));
        Assert.That(source.Single().Inputs.Keys, Is.EquivalentTo(new[] { "a", "b:0" }));
    }

    [Test]
    public void Npy_FileNamingNoInput_ErrorListsTheInputs()
    {
        using var dir = new TempFolder();
        WriteNpy(Path.Combine(dir.Path, "input.npy"), [1, 4], new float[4]);

        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(dir.Path, Tiny))!;

        Assert.That(e.Message, Does.Contain("input.npy").And.Contain("names no input").And.Contain("'x'").And.Contain("<input>_<k>.npy"));
    }

    [Test]
    public void Npy_SampleFolderMissingAnInput_ErrorNamesTheFile()
    {
        using var dir = new TempFolder();
        WriteNpy(Path.Combine(dir.Sub("0"), "a.npy"), [1, 4], new float[4]);

        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(dir.Path, TwoInputs()))!;

        Assert.That(e.Message, Does.Contain("no b_0.npy for input 'b:0'"));
    }

    [Test]
    public void Npy_NumberedSampleMissingAnInput_ErrorNamesTheFile()
    {
        using var dir = new TempFolder();
        WriteNpy(Path.Combine(dir.Path, "a_0.npy"), [1, 4], new float[4]);
        WriteNpy(Path.Combine(dir.Path, "b_0_0.npy"), [1, 4], new float[4]);
        WriteNpy(Path.Combine(dir.Path, "a_1.npy"), [1, 4], new float[4]);

        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(dir.Path, TwoInputs()))!;

        Assert.That(e.Message, Does.Contain("no b_0_1.npy for input 'b:0'"));
    }

    [Test]
    public void Npy_MixedSingleAndNumbered_Refused()
    {
        using var dir = new TempFolder();
        WriteNpy(Path.Combine(dir.Path, "x.npy"), [1, 4], new float[4]);
        WriteNpy(Path.Combine(dir.Path, "x_3.npy"), [1, 4], new float[4]);

        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(dir.Path, Tiny))!;

        Assert.That(e.Message, Does.Contain("mixes").And.Contain("x_3.npy"));
    }

    [Test]
    public void Npy_Float64_ErrorSaysHowToSave()
    {
        using var dir = new TempFolder();
        WriteNpy(Path.Combine(dir.Path, "x.npy"), [1, 4], new double[4]);

        var source = CalibrationSource.Open(dir.Path, Tiny);
        var e = Assert.Throws<ArgumentException>(() => source.First())!;

        Assert.That(e.Message, Does.Contain("double").And.Contain("astype(np.float32)"));
    }

    [Test]
    public void Npy_WrongShape_ErrorShowsBoth()
    {
        using var dir = new TempFolder();
        WriteNpy(Path.Combine(dir.Path, "x.npy"), [1, 5], new float[5]);

        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(dir.Path, Tiny).First())!;

        Assert.That(e.Message, Does.Contain("[1,5]").And.Contain("float[1,4]"));
    }

    [Test]
    public void Streaming_ABadLaterSampleFailsOnlyWhenReached()
    {
        using var dir = new TempFolder();
        WriteNpy(Path.Combine(dir.Sub("0"), "x.npy"), [1, 4], new float[4]);
        File.WriteAllText(Path.Combine(dir.Sub("1"), "x.npy"), "not numpy");

        var source = CalibrationSource.Open(dir.Path, Tiny);
        using var samples = source.GetEnumerator();

        Assert.That(samples.MoveNext(), Is.True);
        Assert.Throws<InvalidDataException>(() => samples.MoveNext());
    }

    [Test]
    public void Images_ResizedToTheModelInput()
    {
        using var dir = new TempFolder();
        WritePng(Path.Combine(dir.Path, "b.png"), 16, 12);
        WritePng(Path.Combine(dir.Path, "a.png"), 5, 5);

        var source = CalibrationSource.Open(dir.Path, ImageModel(), ImagePreprocess.Parse("scale=1/255,mean=0.5,std=0.5"));
        var samples = source.ToList();

        Assert.That((source.Layout, source.Count), Is.EqualTo((CalibrationDataLayout.Images, 2)));
        Assert.That(samples.Select(s => Path.GetFileName(s.Source)), Is.EqualTo(new[] { "a.png", "b.png" }));
        Assert.That(samples.All(s => s.Inputs["image"].Dims.SequenceEqual(new long[] { 1, 3, 8, 6 })), Is.True);
        Assert.That(samples[1].Inputs["image"].AsSpan<float>()[2 * 48], Is.EqualTo((200 / 255.0 - 0.5) / 0.5).Within(1e-5), "blue plane");
    }

    [Test]
    public void Images_LayoutNotMatchingTheModel_ErrorPointsAtTheSpec()
    {
        using var dir = new TempFolder();
        WritePng(Path.Combine(dir.Path, "a.png"), 6, 8);

        var source = CalibrationSource.Open(dir.Path, ImageModel(), ImagePreprocess.Parse("layout=nhwc"));
        var e = Assert.Throws<ArgumentException>(() => source.First())!;

        Assert.That(e.Message, Does.Contain("--image-preprocess").And.Contain("layout="));
    }

    [Test]
    public void Images_WithoutASpec_ErrorSaysWhichOption()
    {
        using var dir = new TempFolder();
        WritePng(Path.Combine(dir.Path, "a.png"), 6, 8);

        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(dir.Path, ImageModel()))!;

        Assert.That(e.Message, Does.Contain("holds images").And.Contain("--image-preprocess").And.Contain("'image'"));
    }

    [Test]
    public void Images_Jpeg_RefusedWhenOpened()
    {
        using var dir = new TempFolder();
        WritePng(Path.Combine(dir.Path, "a.png"), 6, 8);
        File.WriteAllBytes(Path.Combine(dir.Path, "b.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 0, 0]);

        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(dir.Path, ImageModel(), new ImagePreprocess()))!;

        Assert.That(e.Message, Does.Contain("JPEG").And.Contain("b.jpg").And.Contain("convert"));
    }

    [Test]
    public void Images_TwoInputModel_Refused()
    {
        using var dir = new TempFolder();
        WritePng(Path.Combine(dir.Path, "a.png"), 6, 8);

        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(dir.Path, TwoInputs(), new ImagePreprocess()))!;

        Assert.That(e.Message, Does.Contain("one input").And.Contain("'a', 'b:0'"));
    }

    [Test]
    public void EmptyFolder_ErrorListsTheLayouts()
    {
        using var dir = new TempFolder();

        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open(dir.Path, Tiny))!;

        Assert.That(e.Message, Does.Contain("holds no calibration data").And.Contain("test_data_set_0").And.Contain(".npy").And.Contain("--image-preprocess"));
    }

    [Test]
    public void MissingFolder_Error()
    {
        var e = Assert.Throws<ArgumentException>(() => CalibrationSource.Open("/nonexistent/calib", Tiny))!;
        Assert.That(e.Message, Does.Contain("does not exist"));
    }
}
