using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.TestKit;

namespace EdgeOpt.Onnx.Tests.Shapes;

public class ShapeInferenceTests
{
    [Test]
    public void SymbolicBatch_FlowsThroughConvAndStaysNamed()
    {
        var g = new Graph("conv");
        var x = g.AddInput("x", new TensorType(TensorDataType.Float, [Dim.Symbolic("N"), Dim.Of(3), Dim.Of(32), Dim.Of(32)]));
        var w = g.AddInitializer(Tensor.Create("w", [8, 3, 3, 3], new float[8 * 27]));
        var conv = g.AddNode(OpTypes.Conv, [x, w], ["y"], attributes: [Ir.Attribute.Ints(AttrNames.Strides, 2, 2), Ir.Attribute.Ints(AttrNames.Pads, 1, 1, 1, 1)]);
        g.AddOutput(conv.Output());

        var result = ShapeInference.Infer(TinyModels.WithOpset(g));

        Assert.That(Dims.Format(result.TypeOf(conv.Output())!.Shape), Is.EqualTo("[N,8,16,16]"));
        Assert.That(result.Unresolved, Is.Empty);
    }

    [Test]
    public void ShapeGatherConcatReshape_ResolvesLikePyTorchExports()
    {
        var g = new Graph("flatten");
        var x = g.AddInput("x", TensorType.Of(TensorDataType.Float, 2, 4, 5, 5));
        var shape = g.AddNode(OpTypes.Shape, [x], ["s"]);
        var zero = g.AddInitializer(Tensor.Scalar("zero", 0L));
        var batch = g.AddNode(OpTypes.Gather, [shape.Output(), zero], ["n"]);
        var axes = g.AddInitializer(Tensor.Create("axes", [1], new[] { 0L }));
        var unsq = g.AddNode(OpTypes.Unsqueeze, [batch.Output(), axes], ["n1"]);
        var minusOne = g.AddInitializer(Tensor.Create("m1", [1], new[] { -1L }));
        var target = g.AddNode(OpTypes.Concat, [unsq.Output(), minusOne], ["target"], attributes: [Ir.Attribute.Int(AttrNames.Axis, 0)]);
        var reshape = g.AddNode(OpTypes.Reshape, [x, target.Output()], ["y"]);
        g.AddOutput(reshape.Output());

        var result = ShapeInference.Infer(TinyModels.WithOpset(g, 13));

        Assert.That(result.StaticShapeOf(reshape.Output()), Is.EqualTo(new long[] { 2, 100 }));
    }

    [Test]
    public void InputShapeOverride_UnknownInput_ErrorListsInputs()
    {
        var model = TinyModels.MatMulAddRelu();
        var e = Assert.Throws<ArgumentException>(() => ShapeInference.Infer(model, Overrides("z", 1, 4)))!;
        Assert.That(e.Message, Does.Contain("'z'").And.Contain("'x'"));
    }

    [Test]
    public void InputShapeOverride_ContradictsFixedDimension_Refused()
    {
        var model = TinyModels.MatMulAddRelu(k: 4);
        var e = Assert.Throws<ArgumentException>(() => ShapeInference.Infer(model, Overrides("x", 1, 5)))!;
        Assert.That(e.Message, Does.Contain("fixed at 4"));
    }

    [Test]
    public void Annotate_WritesIntermediateTypesThatSurviveARoundTrip()
    {
        var model = TinyModels.MatMulAddRelu(k: 4, n: 3);
        ShapeInference.Infer(model, new ShapeInferenceOptions { Annotate = true });

        var reread = ModelReader.Read(new MemoryStream(ModelWriter.ToBytes(model)), "annotated");

        var mm = reread.Graph.FindValue("mm")!;
        Assert.That(mm.TensorType!.StaticShape, Is.EqualTo(new long[] { 1, 3 }));
        Assert.That(reread.Graph.ValueInfos.Select(v => v.Name), Does.Contain("sum"));
    }

    [Test]
    public void Infer_WithoutAnnotate_LeavesTheModelUnchanged()
    {
        var model = TinyModels.MatMulAddRelu();
        var before = ModelWriter.ToBytes(model);
        ShapeInference.Infer(model);
        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before));
    }

    [TestCase("fastestdet.onnx", null, "output", "[1,484,85]")]
    [TestCase("ultraface_rfb320.onnx", null, "boxes", "[1,4420,4]")]
    [TestCase("msra_190729/model.onnx", "bgrm=1x4x192x256", "mask", "[1,1,192,256]")]
    [TestCase("super-resolution-10/model.onnx", "input=1x1x224x224", null, "[1,1,672,672]")]
    public void RealModel_OutputShapeInferredWithoutDeclarations(string file, string? input, string? output, string expected)
    {
        var model = ModelReader.Read(TestPaths.RequireShared(["models", .. file.Split('/')]));
        ForgetDeclaredShapes(model);
        var overrides = input == null ? new ShapeInferenceOptions() : Overrides(input.Split('=')[0], [.. input.Split('=')[1].Split('x').Select(long.Parse)]);

        var result = ShapeInference.Infer(model, overrides);

        var value = output == null ? model.Graph.Outputs[0] : model.Graph.Outputs.Single(o => o.Name == output);
        Assert.That(Dims.Format(result.TypeOf(value)!.Shape), Is.EqualTo(expected));
    }

    [Test]
    public void PaddleOcrDetector_At640_OutputIsFullResolutionMap()
    {
        var model = ModelReader.Read(TestPaths.RequireArtifact("models", "ppocrv4_det.onnx"));
        var result = ShapeInference.Infer(model, Overrides("x", 1, 3, 640, 640));
        Assert.That(result.StaticShapeOf(model.Graph.Outputs[0]), Is.EqualTo(new long[] { 1, 1, 640, 640 }));
        Assert.That(result.Unresolved, Is.Empty);
    }

    [Test]
    public void SileroVad_ShapesInsideTheTakenIfBranchAreDecided()
    {
        var model = ModelReader.Read(TestPaths.RequireArtifact("models", "silero_vad_v5.onnx"));
        var shapes = new Dictionary<string, long[]> { ["input"] = [1, 576], ["state"] = [2, 1, 128] };

        var result = ShapeInference.Infer(model, new ShapeInferenceOptions { InputShapes = shapes });

        // The sample-rate If: its then-branch is the 16 kHz network (576 = 64 context + 512 samples).
        const string sixteenKhz = "If_0_then_branch";
        var lstms = model.Graph.AllNodes().Where(n => n.Is(OpTypes.LSTM) && n.Name.StartsWith(sixteenKhz, StringComparison.Ordinal)).ToList();
        Assert.That(lstms, Has.Count.EqualTo(2), "the decoder has one LSTM per state branch");
        Assert.That(lstms.Select(l => result.StaticShapeOf(l.Output(1))), Has.All.EqualTo(new long[] { 1, 1, 128 }));
        Assert.That(result.Unresolved.Where(n => n.Name.StartsWith(sixteenKhz, StringComparison.Ordinal)), Is.Empty);
    }

    internal static void ForgetDeclaredShapes(Model model)
    {
        foreach (var node in model.Graph.AllNodes())
        {
            foreach (var output in node.Outputs)
            {
                if (output?.TensorType is { } t) output.Type = new TensorType(t.ElementType, null);
            }
        }
    }

    private static ShapeInferenceOptions Overrides(string name, params long[] dims) =>
        new() { InputShapes = new Dictionary<string, long[]> { [name] = dims } };
}
