using EdgeOpt.Onnx.Ir;
using EdgeOpt.Runtime;

namespace EdgeOpt.Pipeline.Execution;

/// <summary>Conversions between IR tensors and ONNX Runtime values (the numbering of element types is ONNX's in both).</summary>
public static class OrtTensors
{
    /// <summary>An ONNX Runtime tensor holding a copy of <paramref name="tensor"/> (numeric, bool or string).</summary>
    /// <exception cref="ArgumentException">The tensor's element type has no ONNX Runtime counterpart here.</exception>
    public static OrtValue ToOrtValue(OrtLibrary library, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(tensor);
        var dims = tensor.DimsArray();
        return tensor.DataType switch
        {
            TensorDataType.String => OrtValue.CreateStringTensor(library, [.. tensor.Strings.Select(s => s.ToStringUtf8())], dims),
            TensorDataType.Undefined => throw new ArgumentException($"tensor '{tensor.Name}' has no element type"),
            _ => OrtValue.CreateTensor(library, (OnnxElementType)(int)tensor.DataType, tensor.RawData.Span, dims),
        };
    }

    /// <summary>An IR tensor named <paramref name="name"/> holding a copy of the ONNX Runtime tensor <paramref name="value"/>.</summary>
    /// <exception cref="NotSupportedException">The value is a sequence, map or optional, not a tensor.</exception>
    public static Tensor ToTensor(OrtValue value, string name)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.IsTensor) throw new NotSupportedException($"output '{name}' is a {value.Kind}, not a tensor; EdgeOpt reads tensor outputs only");
        var dims = value.Shape.ToArray();
        return value.ElementType == OnnxElementType.String
            ? Tensor.FromStrings(name, dims, value.GetStrings())
            : Tensor.FromRaw(name, (TensorDataType)(int)value.ElementType, dims, value.GetTensorBytes().ToArray());
    }
}
