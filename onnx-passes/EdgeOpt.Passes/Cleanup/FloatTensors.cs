using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Cleanup;

/// <summary>Floating-point tensor data as doubles, and back to float, float16 or double tensors.</summary>
internal static class FloatTensors
{
    /// <summary>Whether passes can read and write <paramref name="type"/> through doubles without loss beyond one rounding.</summary>
    public static bool IsSupported(TensorDataType type) => type is TensorDataType.Float or TensorDataType.Float16 or TensorDataType.Double;

    /// <summary>The elements of a float, float16 or double tensor as doubles; null for other element types.</summary>
    public static double[]? ToDoubles(Tensor tensor)
    {
        var result = new double[tensor.ElementCount];
        switch (tensor.DataType)
        {
            case TensorDataType.Float:
                var f = tensor.AsSpan<float>();
                for (var i = 0; i < result.Length; i++) result[i] = f[i];
                return result;
            case TensorDataType.Double:
                tensor.AsSpan<double>().CopyTo(result);
                return result;
            case TensorDataType.Float16:
                var h = tensor.AsSpan<Half>();
                for (var i = 0; i < result.Length; i++) result[i] = (double)h[i];
                return result;
            default:
                return null;
        }
    }

    /// <summary>A new tensor of <paramref name="type"/> (float, float16 or double) holding <paramref name="values"/>, each rounded once.</summary>
    public static Tensor Create(string name, TensorDataType type, long[] dims, double[] values) => type switch
    {
        TensorDataType.Float => Tensor.Create(name, dims, Array.ConvertAll(values, v => (float)v)),
        TensorDataType.Double => Tensor.Create(name, dims, (double[])values.Clone()),
        TensorDataType.Float16 => Tensor.Create(name, dims, Array.ConvertAll(values, v => (Half)v)),
        _ => throw new ArgumentException($"{TensorDataTypes.OnnxName(type)} is not a supported floating-point type", nameof(type)),
    };
}
