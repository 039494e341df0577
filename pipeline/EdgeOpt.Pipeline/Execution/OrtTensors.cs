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

    /// <summary>
    /// OrtValues for <paramref name="names"/> (a session's inputs, in order) from <paramref name="inputs"/>; the caller disposes them.
    /// <paramref name="source"/> names where the inputs came from in the error.
    /// </summary>
    /// <exception cref="ArgumentException">An input is missing: the message names it and every input the model has.</exception>
    public static List<OrtValue> ToOrtValues(OrtLibrary library, IReadOnlyList<string> names, IReadOnlyDictionary<string, Tensor> inputs, string? source = null)
    {
        var missing = names.Where(n => !inputs.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException($"{(source is null ? "" : $"{source}: ")}no value for input {string.Join(", ", missing.Select(m => $"'{m}'"))}; " +
                $"the model's inputs are {string.Join(", ", names.Select(n => $"'{n}'"))}");
        }
        var values = new List<OrtValue>(names.Count);
        try
        {
            foreach (var name in names) values.Add(ToOrtValue(library, inputs[name]));
            return values;
        }
        catch
        {
            values.ForEach(v => v.Dispose());
            throw;
        }
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
