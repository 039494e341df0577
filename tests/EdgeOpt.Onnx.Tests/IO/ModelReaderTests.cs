using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Proto;
using EdgeOpt.Onnx.Validation;
using EdgeOpt.TestKit;
using Google.Protobuf;

namespace EdgeOpt.Onnx.Tests.IO;

public class ModelReaderTests
{
    [Test]
    public void MissingFile_NamesTheFile()
    {
        var e = Assert.Throws<OnnxModelException>(() => ModelReader.Read("/nonexistent/model.onnx"));
        Assert.That(e!.Message, Does.Contain("/nonexistent/model.onnx").And.Contain("not found"));
    }

    [Test]
    public void TextFile_IsNotAnOnnxModel()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "{\"this\": \"is json\"}");
            var e = Assert.Throws<OnnxModelException>(() => ModelReader.Read(path));
            Assert.That(e!.Message, Does.Contain("not an ONNX model"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void TruncatedModel_ReportsParseFailure()
    {
        var bytes = File.ReadAllBytes(TestPaths.RequireShared("models", "mnist-8.onnx"));
        var e = Assert.Throws<OnnxModelException>(() => ModelReader.Read(new MemoryStream(bytes[..(bytes.Length / 2)]), "half.onnx"));
        Assert.That(e!.Message, Does.Contain("half.onnx").And.Contain("truncated"));
    }

    [Test]
    public void SeveralProblems_AreAllListedWithTheirNodes()
    {
        var g = new GraphProto { Name = "g" };
        g.Node.Add(new NodeProto { Name = "a", OpType = "Relu", Input = { "missing1" }, Output = { "y" } });
        g.Node.Add(new NodeProto { Name = "b", OpType = "Relu", Input = { "missing2" }, Output = { "y" } });
        g.Initializer.Add(new TensorProto { Name = "w", DataType = 1, Dims = { 2, 2 }, FloatData = { 1, 2, 3 } });
        g.Output.Add(new ValueInfoProto { Name = "y" });
        var proto = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 17 } } };

        var e = Assert.Throws<OnnxModelException>(() => ModelReader.Read(new MemoryStream(proto.ToByteArray()), "bad.onnx"));

        var messages = e!.Problems.Select(p => p.ToString()).ToList();
        Assert.That(messages, Has.Some.Contains("node a (Relu)").And.Some.Contains("'missing1'"));
        Assert.That(messages, Has.Some.Contains("'missing2'"));
        Assert.That(messages, Has.Some.Contains("output 'y' is already defined"));
        Assert.That(messages, Has.Some.Contains("need 4 elements").And.Some.Contains("holds 3"));
    }

    [Test]
    public void UnknownDataType_IsReported()
    {
        var g = new GraphProto { Name = "g" };
        g.Initializer.Add(new TensorProto { Name = "w", DataType = 99, Dims = { 1 }, RawData = ByteString.CopyFrom(0) });
        g.Output.Add(new ValueInfoProto { Name = "w" });
        var proto = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 17 } } };

        var e = Assert.Throws<OnnxModelException>(() => ModelReader.Read(new MemoryStream(proto.ToByteArray()), "t.onnx"));
        Assert.That(e!.Message, Does.Contain("unknown data type 99"));
    }

    [Test]
    public void Cycle_IsReported()
    {
        var g = new GraphProto { Name = "g" };
        g.Input.Add(new ValueInfoProto { Name = "x" });
        g.Node.Add(new NodeProto { Name = "a", OpType = "Add", Input = { "x", "c" }, Output = { "b" } });
        g.Node.Add(new NodeProto { Name = "n2", OpType = "Relu", Input = { "b" }, Output = { "c" } });
        g.Output.Add(new ValueInfoProto { Name = "c" });
        var proto = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 17 } } };

        var e = Assert.Throws<OnnxModelException>(() => ModelReader.Read(new MemoryStream(proto.ToByteArray()), "cyc.onnx"));
        Assert.That(e!.Message, Does.Contain("cycle"));
    }

    [Test]
    public void SubgraphWeights_AreVisibleAsConstants()
    {
        var model = ModelReader.Read(TestPaths.RequireArtifact("models", "silero_vad_v5.onnx"));
        var subgraphNodes = model.Graph.Nodes.Where(n => n.Subgraphs.Any()).SelectMany(n => n.Subgraphs).SelectMany(g => g.AllNodes()).ToList();
        Assert.That(subgraphNodes, Is.Not.Empty);
        var conv = subgraphNodes.First(n => n.Is(OpTypes.Conv));
        Assert.That(conv.Input(ConvInput.W)!.Constant, Is.Not.Null, "Conv weights inside the If branch are constants");
    }

    [Test]
    public void ConstantNodeWeights_AreVisibleAsConstants()
    {
        var model = ModelReader.Read(TestPaths.RequireArtifact("models", "ppocrv4_det.onnx"));
        var conv = model.Graph.Nodes.First(n => n.Is(OpTypes.Conv));
        var w = conv.Input(ConvInput.W)!;
        Assert.That(w.Producer?.OpType, Is.EqualTo(OpTypes.Constant));
        Assert.That(w.Constant!.DataType, Is.EqualTo(TensorDataType.Float));
        Assert.That(w.Constant.Rank, Is.EqualTo(4));
    }

    [Test]
    public void OldModel_InitializersThatAreInputs_AreNotConstants()
    {
        var model = ModelReader.Read(TestPaths.RequireShared("models", "mnist-8.onnx"));
        var init = model.Graph.Initializers.First();
        Assert.That(init.IsGraphInput, Is.True);
        Assert.That(init.Constant, Is.Null, "an initializer listed as a graph input can be overridden at run time");
    }
}
