using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Validation;

namespace EdgeOpt.Onnx.Tests.IO;

public class TensorFilesTests
{
    [Test]
    public void WriteThenRead_KeepsTypeDimsAndValues()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgeopt-tensor-{Guid.NewGuid():N}.pb");
        try
        {
            TensorFiles.Write(path, Tensor.Create("t", [2, 3], new[] { 1f, 2, 3, 4, 5, 6 }));
            var t = TensorFiles.Read(path);
            Assert.That(t.DataType, Is.EqualTo(TensorDataType.Float));
            Assert.That(t.Dims, Is.EqualTo(new long[] { 2, 3 }));
            Assert.That(t.ToSingles(), Is.EqualTo(new[] { 1f, 2, 3, 4, 5, 6 }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void NotATensor_RefusedWithReason()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgeopt-tensor-{Guid.NewGuid():N}.pb");
        File.WriteAllText(path, "this is not a tensor");
        try
        {
            var e = Assert.Throws<OnnxModelException>(() => TensorFiles.Read(path))!;
            Assert.That(e.Message, Does.Contain("not a usable tensor file"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
