using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Tensor surgery for the pruning passes, on the raw bytes so kept elements are copied bit for bit (no rounding):
/// removing indices along an axis, zeroing elements, per-slice norms, and swapping a node's parameter for a new tensor.
/// </summary>
internal static class WeightTensors
{
    /// <summary>Whether the pruning passes read and zero tensors of <paramref name="type"/> (float, float16, double).</summary>
    public static bool IsPrunable(TensorDataType type) => FloatTensors.IsSupported(type);

    /// <summary>Bytes per element of a fixed-width type of at least one byte; 0 otherwise.</summary>
    public static int ElementSize(TensorDataType type)
    {
        var bits = TensorDataTypes.BitsPerElement(type);
        return bits >= 8 && bits % 8 == 0 ? bits / 8 : 0;
    }

    /// <summary>
    /// <paramref name="tensor"/> without the indices <paramref name="removed"/> (sorted, distinct) along <paramref name="axis"/>.
    /// </summary>
    public static Tensor RemoveIndices(Tensor tensor, int axis, IReadOnlyList<long> removed)
    {
        var size = ElementSize(tensor.DataType);
        if (size == 0) throw new ArgumentException($"tensor '{tensor.Name}' of {TensorDataTypes.OnnxName(tensor.DataType)} cannot be sliced");
        var dims = tensor.DimsArray();
        var (outer, n, inner) = Split(dims, axis);
        var keep = Kept(n, removed);
        var source = tensor.RawData.Span;
        var result = new byte[outer * keep.Count * inner * size];
        var run = inner * size;
        var at = 0L;
        for (var o = 0L; o < outer; o++)
        {
            foreach (var k in keep)
            {
                source.Slice(checked((int)(((o * n) + k) * run)), checked((int)run)).CopyTo(result.AsSpan(checked((int)at)));
                at += run;
            }
        }
        dims[axis] = keep.Count;
        return Tensor.FromRaw(tensor.Name, tensor.DataType, dims, result);
    }

    /// <summary>Indices 0..<paramref name="count"/>−1 not in <paramref name="removed"/>, ascending.</summary>
    public static List<long> Kept(long count, IReadOnlyList<long> removed)
    {
        var drop = removed.ToHashSet();
        var keep = new List<long>((int)Math.Max(0, count - drop.Count));
        for (var i = 0L; i < count; i++)
        {
            if (!drop.Contains(i)) keep.Add(i);
        }
        return keep;
    }

    /// <summary>The L1 (Σ|w|) or L2 (√Σw²) norm of each slice of <paramref name="values"/> along <paramref name="axis"/> of <paramref name="dims"/>.</summary>
    public static double[] SliceNorms(double[] values, long[] dims, int axis, ChannelCriterion criterion)
    {
        var (outer, n, inner) = Split(dims, axis);
        var norms = new double[n];
        for (var o = 0L; o < outer; o++)
        {
            for (var c = 0L; c < n; c++)
            {
                var start = ((o * n) + c) * inner;
                double sum = 0;
                for (var i = 0L; i < inner; i++)
                {
                    var w = values[start + i];
                    sum += criterion == ChannelCriterion.L1 ? Math.Abs(w) : w * w;
                }
                norms[c] += sum;
            }
        }
        if (criterion == ChannelCriterion.L2)
        {
            for (var c = 0; c < norms.Length; c++) norms[c] = Math.Sqrt(norms[c]);
        }
        return norms;
    }

    /// <summary>A copy of <paramref name="tensor"/> with the elements at <paramref name="zeroed"/> set to +0.</summary>
    public static Tensor Zeroed(Tensor tensor, IEnumerable<long> zeroed)
    {
        var size = ElementSize(tensor.DataType);
        var bytes = tensor.RawData.ToArray();
        foreach (var i in zeroed) bytes.AsSpan(checked((int)(i * size)), size).Clear();
        return Tensor.FromRaw(tensor.Name, tensor.DataType, tensor.DimsArray(), bytes);
    }

    /// <summary>How many elements of a float, float16 or double tensor are exactly zero (either sign).</summary>
    public static long CountZeros(Tensor tensor)
    {
        var values = FloatTensors.ToDoubles(tensor) ?? throw new ArgumentException($"tensor '{tensor.Name}' is not float");
        return values.LongCount(v => v == 0);
    }

    /// <summary>Why the weight <paramref name="weight"/> is no constant the passes can prune.</summary>
    public static string NotConstantReason(Value weight) =>
        weight.SparseInitializer != null ? $"weight '{weight.Name}' is already stored sparse"
        : weight.Initializer != null && weight.IsGraphInput ? $"weight '{weight.Name}' is also a graph input, so callers may override it (drop such inputs with remove-initializer-inputs)"
        : $"weight '{weight.Name}' is not a constant";

    /// <summary>(product of dims before axis, dim at axis, product of dims after axis).</summary>
    public static (long Outer, long Count, long Inner) Split(IReadOnlyList<long> dims, int axis)
    {
        long outer = 1, inner = 1;
        for (var i = 0; i < axis; i++) outer *= dims[i];
        for (var i = axis + 1; i < dims.Count; i++) inner *= dims[i];
        return (outer, dims[axis], inner);
    }

    /// <summary>
    /// Points input <paramref name="index"/> of <paramref name="node"/> at <paramref name="tensor"/>. An initializer only this input reads
    /// is changed in place (same name); a shared tensor, a Constant node's value or a graph-input default gets a new initializer
    /// <c>{node}/{purpose}</c>, and the old one is removed when nothing reads it any more.
    /// </summary>
    public static void Replace(GraphEditor edit, Node node, int index, string purpose, Tensor tensor)
    {
        var old = node.Input(index) ?? throw new InvalidOperationException($"{node} has no input {index}");
        if (old.Initializer != null && !old.IsGraphInput && !old.IsGraphOutput && old.Uses.Count == 1)
        {
            old.Graph.SetInitializer(old, tensor);
            if (old.Type != null) old.Type = TensorType.Of(tensor.DataType, tensor.DimsArray());
            return;
        }
        node.SetInput(index, edit.Constant(node, purpose, tensor));
        if (old.Producer is { IsConstantNode: true } constant && !old.IsUsed) constant.Graph.RemoveNode(constant);
        else edit.RemoveIfUnused(old);
    }
}
