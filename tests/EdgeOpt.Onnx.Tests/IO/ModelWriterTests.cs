using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.TestKit;

namespace EdgeOpt.Onnx.Tests.IO;

public class ModelWriterTests
{
    [Test]
    public void ModelBuiltInCode_RoundTripsWithItsData()
    {
        var model = TinyModels.MatMulAddRelu();
        var reloaded = ModelReader.Read(new MemoryStream(ModelWriter.ToBytes(model)));

        Assert.That(reloaded.Graph.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "MatMul", "Add", "Relu" }));
        Assert.That(reloaded.Graph.FindValue("w")!.Initializer!.ToArray<float>(), Is.EqualTo(model.Graph.FindValue("w")!.Initializer!.ToArray<float>()));
        Assert.That(reloaded.Graph.Inputs.Single().TensorType!.StaticShape, Is.EqualTo(new long[] { 1, 4 }));
    }

    [Test]
    public void SameModel_WritesByteIdenticalOutput()
    {
        Assert.That(ModelWriter.ToBytes(TinyModels.MatMulAddRelu()), Is.EqualTo(ModelWriter.ToBytes(TinyModels.MatMulAddRelu())));
    }

    [Test]
    public void Write_LeavesNoTemporaryFiles()
    {
        var dir = Directory.CreateTempSubdirectory("edgeopt-w-").FullName;
        try
        {
            ModelWriter.Write(TinyModels.MatMulAddRelu(), Path.Combine(dir, "m.onnx"));
            Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName), Is.EqualTo(new[] { "m.onnx" }));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void ChangedTensor_IsWrittenNotTheOriginal()
    {
        var path = TestPaths.RequireShared("models", "ultraface_rfb320.onnx");
        var model = ModelReader.Read(path);
        var init = model.Graph.Initializers.First(v => v.Initializer!.DataType == TensorDataType.Float);
        var zeros = new float[init.Initializer!.ElementCount];
        model.Graph.SetInitializer(init, Tensor.Create(init.Name, init.Initializer.DimsArray(), zeros));

        var reloaded = ModelReader.Read(new MemoryStream(ModelWriter.ToBytes(model)));

        Assert.That(reloaded.Graph.FindValue(init.Name)!.Initializer!.ToArray<float>(), Is.All.EqualTo(0f));
    }
}
