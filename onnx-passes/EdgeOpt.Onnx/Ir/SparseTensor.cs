namespace EdgeOpt.Onnx.Ir;

/// <summary>A sparse tensor in COO form: <see cref="Values"/> at <see cref="Indices"/> in a tensor of <see cref="Dims"/>.</summary>
public sealed class SparseTensor(Tensor values, Tensor indices, long[] dims)
{
    public Tensor Values { get; } = values;
    public Tensor Indices { get; } = indices;
    public IReadOnlyList<long> Dims { get; } = dims;
    public string Name => Values.Name;

    /// <summary>The proto this sparse tensor was read from.</summary>
    internal Proto.SparseTensorProto? Origin { get; init; }
}
