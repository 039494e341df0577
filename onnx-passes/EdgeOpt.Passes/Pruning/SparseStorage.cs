using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Dense ↔ sparse (COO) conversion of initializers, the form ONNX's <c>graph.sparse_initializer</c> holds: <c>values</c> [NNZ]
/// of the tensor's element type and <c>indices</c> [NNZ] int64 — linear (row-major) positions in ascending order. ONNX also
/// allows indices [NNZ, rank]; linear ones take 8 bytes per value instead of 8·rank, and ONNX Runtime reads both (it
/// densifies sparse initializers when it loads a model).
/// </summary>
public static class SparseStorage
{
    /// <summary>Bytes of one int64 index.</summary>
    public const int IndexBytes = sizeof(long);

    /// <summary>The non-zero elements of a float, float16 or double tensor, copied bit for bit, with their linear indices.</summary>
    public static SparseTensor FromDense(Tensor dense)
    {
        var size = WeightTensors.ElementSize(dense.DataType);
        var numbers = FloatTensors.ToDoubles(dense)
            ?? throw new ArgumentException($"tensor '{dense.Name}' is {TensorDataTypes.OnnxName(dense.DataType)}; only float, float16 and double are stored sparse");
        var indices = new List<long>();
        for (var i = 0L; i < numbers.LongLength; i++)
        {
            if (numbers[i] != 0) indices.Add(i);
        }
        var raw = dense.RawData.Span;
        var values = new byte[indices.Count * size];
        for (var k = 0; k < indices.Count; k++) raw.Slice(checked((int)(indices[k] * size)), size).CopyTo(values.AsSpan(k * size));
        return new SparseTensor(
            Tensor.FromRaw(dense.Name, dense.DataType, [indices.Count], values),
            Tensor.Create("", [indices.Count], indices.ToArray()),
            dense.DimsArray());
    }

    /// <summary>The dense tensor a sparse one stands for (zeros elsewhere); reads linear [NNZ] and coordinate [NNZ, rank] indices.</summary>
    public static Tensor ToDense(SparseTensor sparse)
    {
        var dims = sparse.Dims.ToArray();
        var size = WeightTensors.ElementSize(sparse.Values.DataType);
        if (size == 0) throw new ArgumentException($"sparse tensor '{sparse.Name}' of {TensorDataTypes.OnnxName(sparse.Values.DataType)} cannot be densified");
        var count = dims.Aggregate(1L, (a, b) => a * b);
        var nnz = sparse.Values.ElementCount;
        var linear = LinearIndices(sparse, dims, nnz);
        var result = new byte[count * size];
        var values = sparse.Values.RawData.Span;
        for (var k = 0; k < nnz; k++)
        {
            if (linear[k] < 0 || linear[k] >= count) throw new ArgumentException($"sparse tensor '{sparse.Name}': index {linear[k]} is outside [{string.Join(",", dims)}]");
            values.Slice(k * size, size).CopyTo(result.AsSpan(checked((int)(linear[k] * size))));
        }
        return Tensor.FromRaw(sparse.Name, sparse.Values.DataType, dims, result);
    }

    /// <summary>Bytes the sparse form of <paramref name="nonZeros"/> elements of <paramref name="elementSize"/> bytes takes (values plus int64 indices).</summary>
    public static long SparseBytes(long nonZeros, int elementSize) => nonZeros * (elementSize + IndexBytes);

    /// <summary>Bytes a tensor takes in storage: dense raw bytes, or values plus indices when sparse.</summary>
    public static long StoredBytes(Value value) => value.SparseInitializer is { } s
        ? s.Values.ByteCount + s.Indices.ByteCount
        : value.Initializer?.ByteCount ?? 0;

    private static long[] LinearIndices(SparseTensor sparse, long[] dims, long nnz)
    {
        var raw = sparse.Indices.ToInt64s();
        var indexDims = sparse.Indices.Dims;
        if (indexDims.Count == 1 && indexDims[0] == nnz) return raw;
        if (indexDims.Count != 2 || indexDims[0] != nnz || indexDims[1] != dims.Length)
        {
            throw new ArgumentException($"sparse tensor '{sparse.Name}': indices [{string.Join(",", indexDims)}] are neither [{nnz}] nor [{nnz},{dims.Length}]");
        }
        var linear = new long[nnz];
        for (var k = 0; k < nnz; k++)
        {
            long at = 0;
            for (var d = 0; d < dims.Length; d++) at = at * dims[d] + raw[k * dims.Length + d];
            linear[k] = at;
        }
        return linear;
    }
}
