using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Proto;
using EdgeOpt.Onnx.Validation;
using Google.Protobuf;

namespace EdgeOpt.Onnx.IO;

/// <summary>
/// Single tensors stored as serialized <c>TensorProto</c> files, the layout of ONNX test data
/// (<c>test_data_set_0/input_0.pb</c>, <c>output_0.pb</c>).
/// </summary>
public static class TensorFiles
{
    /// <summary>Reads one tensor; a file that is not a dense, embedded TensorProto is refused with the reason.</summary>
    /// <exception cref="OnnxModelException">The file does not hold a valid tensor.</exception>
    public static Tensor Read(string path)
    {
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Bad(path, $"not a serialized TensorProto ({e.Message})");
        }
        if (!TensorDataTypes.IsKnown(proto.DataType)) throw Bad(path, $"unknown data type {proto.DataType}");
        if (proto.DataLocation == TensorProto.Types.DataLocation.External) throw Bad(path, "external data is not supported in a tensor file");
        if (proto.Dims.Any(d => d < 0)) throw Bad(path, "negative dimension");
        var tensor = Tensor.FromProto(proto, null);
        var stored = TensorProtoCodec.StoredElementCount(proto, tensor.DataType);
        if (stored != null && stored != tensor.ElementCount)
        {
            throw Bad(path, $"dims [{string.Join(",", proto.Dims)}] need {tensor.ElementCount} elements but {stored} are stored");
        }
        return tensor;
    }

    /// <summary>Writes <paramref name="tensor"/> as a TensorProto file, atomically.</summary>
    public static void Write(string path, Tensor tensor) =>
        AtomicFile.Write(path, s => TensorProtoCodec.Embed(tensor, tensor.Name).WriteTo(s));

    private static OnnxModelException Bad(string path, string message) => new(path, $"not a usable tensor file: {message}");
}
