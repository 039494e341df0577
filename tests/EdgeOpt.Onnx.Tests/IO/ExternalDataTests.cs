using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Proto;
using EdgeOpt.Onnx.Validation;
using EdgeOpt.TestKit;
using Google.Protobuf;

namespace EdgeOpt.Onnx.Tests.IO;

public class ExternalDataTests
{
    private string _dir = "";

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("edgeopt-ext-").FullName;

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_dir, recursive: true);

    [Test]
    public void WriteWithThreshold_LargeTensorsGoExternalAndReloadEqual()
    {
        var model = TinyModels.MatMulAddRelu(k: 64, n: 32);
        var path = Path.Combine(_dir, "m.onnx");

        var result = ModelWriter.Write(model, path, new WriteOptions { ExternalDataThreshold = 1024 });

        Assert.That(result.ExternalTensors, Is.EqualTo(1), "only w (8 KiB) passes the 1 KiB threshold");
        Assert.That(result.ExternalDataPath, Is.EqualTo(path + ".data"));
        var reloaded = ModelReader.Read(path);
        var w = reloaded.Graph.FindValue("w")!.Initializer!;
        Assert.That(w.External, Is.Not.Null);
        Assert.That(w.ToArray<float>(), Is.EqualTo(model.Graph.FindValue("w")!.Initializer!.ToArray<float>()));
        Assert.That(reloaded.Graph.FindValue("b")!.Initializer!.External, Is.Null);
    }

    [Test]
    public void ExternalModel_SavedElsewhere_CopiesItsData()
    {
        var first = Path.Combine(_dir, "a.onnx");
        ModelWriter.Write(TinyModels.MatMulAddRelu(k: 64, n: 32), first, new WriteOptions { ExternalDataThreshold = 1024 });
        var copyDir = Directory.CreateDirectory(Path.Combine(_dir, "copy")).FullName;
        var second = Path.Combine(copyDir, "b.onnx");

        ModelWriter.Write(ModelReader.Read(first), second);

        Assert.That(File.Exists(second + ".data"), Is.True, "external tensors stay external by default");
        Assert.That(ModelReader.Read(second).Graph.FindValue("w")!.Initializer!.External!.FullPath, Does.StartWith(copyDir));
    }

    [TestCase("/etc/passwd", "absolute")]
    [TestCase("../outside.bin", "leaves the model's folder")]
    [TestCase("sub/../../outside.bin", "leaves the model's folder")]
    public void EscapingLocation_IsRefused(string location, string expected)
    {
        var path = WriteModelWithExternalLocation(location, 16);
        var e = Assert.Throws<OnnxModelException>(() => ModelReader.Read(path));
        Assert.That(e!.Message, Does.Contain(expected));
    }

    [Test]
    public void TruncatedDataFile_IsReported()
    {
        File.WriteAllBytes(Path.Combine(_dir, "w.bin"), new byte[8]);
        var path = WriteModelWithExternalLocation("w.bin", 16);
        var e = Assert.Throws<OnnxModelException>(() => ModelReader.Read(path));
        Assert.That(e!.Message, Does.Contain("truncated"));
    }

    [Test]
    public void MissingDataFile_IsReported()
    {
        var path = WriteModelWithExternalLocation("nothere.bin", 16);
        var e = Assert.Throws<OnnxModelException>(() => ModelReader.Read(path));
        Assert.That(e!.Message, Does.Contain("does not exist"));
    }

    [Test]
    public void WriterRefusesEscapingDataFileName()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            ModelWriter.Write(TinyModels.MatMulAddRelu(), Path.Combine(_dir, "m.onnx"), new WriteOptions { ExternalDataThreshold = 0, ExternalDataFileName = "../x.data" }));
        Assert.That(e!.Message, Does.Contain("leaves the model's folder"));
        Assert.That(Directory.EnumerateFileSystemEntries(_dir), Is.Empty);
    }

    [Test]
    public void EmbeddedPastTheLimit_SwitchesToExternalData()
    {
        var path = Path.Combine(_dir, "big.onnx");
        var result = ModelWriter.Write(TinyModels.MatMulAddRelu(k: 64, n: 32), path, new WriteOptions { EmbeddedLimit = 4096 });

        Assert.That(result.AutoExternalized, Is.True);
        Assert.That(result.ExternalTensors, Is.EqualTo(1));
        Assert.That(ModelReader.Read(path).Graph.FindValue("w")!.Initializer!.External, Is.Not.Null);
    }

    [Test]
    public void ForcedEmbeddingPastTheLimit_FailsAndWritesNothing()
    {
        var path = Path.Combine(_dir, "big.onnx");
        var e = Assert.Throws<InvalidOperationException>(() =>
            ModelWriter.Write(TinyModels.MatMulAddRelu(k: 64, n: 32), path, WriteOptions.Embedded with { EmbeddedLimit = 4096 }));
        Assert.That(e!.Message, Does.Contain("2 GiB"));
        Assert.That(Directory.EnumerateFileSystemEntries(_dir), Is.Empty);
    }

    [Test]
    public void OverwritingTheInputModel_IsRefused()
    {
        var path = Path.Combine(_dir, "m.onnx");
        ModelWriter.Write(TinyModels.MatMulAddRelu(), path);
        var model = ModelReader.Read(path);
        Assert.Throws<IOException>(() => ModelWriter.Write(model, path));
    }

    private string WriteModelWithExternalLocation(string location, int bytes)
    {
        var t = new TensorProto { Name = "w", DataType = 1, Dims = { bytes / 4 }, DataLocation = TensorProto.Types.DataLocation.External };
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var g = new GraphProto { Name = "g", Initializer = { t }, Output = { new ValueInfoProto { Name = "w" } } };
        var proto = new ModelProto { IrVersion = 8, Graph = g, OpsetImport = { new OperatorSetIdProto { Version = 17 } } };
        var path = Path.Combine(_dir, "ext.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        return path;
    }
}
