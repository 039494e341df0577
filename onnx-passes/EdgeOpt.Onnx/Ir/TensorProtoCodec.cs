using System.Runtime.InteropServices;
using Google.Protobuf;
using EdgeOpt.Onnx.Proto;

namespace EdgeOpt.Onnx.Ir;

/// <summary>Turns the typed fields of a <see cref="TensorProto"/> into raw little-endian bytes, and counts them.</summary>
internal static class TensorProtoCodec
{
    /// <summary>raw_data is viewed in place; typed fields are converted once.</summary>
    public static ReadOnlyMemory<byte> DecodeRaw(TensorProto p, TensorDataType type, long count)
    {
        if (p.HasRawData) return p.RawData.Memory;
        switch (type)
        {
            case TensorDataType.Float or TensorDataType.Complex64:
                return MemoryMarshal.AsBytes<float>([.. p.FloatData]).ToArray();
            case TensorDataType.Double or TensorDataType.Complex128:
                return MemoryMarshal.AsBytes<double>([.. p.DoubleData]).ToArray();
            case TensorDataType.Int64:
                return MemoryMarshal.AsBytes<long>([.. p.Int64Data]).ToArray();
            case TensorDataType.UInt64:
                return MemoryMarshal.AsBytes<ulong>([.. p.Uint64Data]).ToArray();
            case TensorDataType.UInt32:
                return MemoryMarshal.AsBytes<uint>([.. p.Uint64Data.Select(v => (uint)v)]).ToArray();
            case TensorDataType.Int32:
                return MemoryMarshal.AsBytes<int>([.. p.Int32Data]).ToArray();
            case TensorDataType.Int16 or TensorDataType.UInt16 or TensorDataType.Float16 or TensorDataType.BFloat16:
                return MemoryMarshal.AsBytes<ushort>([.. p.Int32Data.Select(v => (ushort)v)]).ToArray();
            case TensorDataType.UInt4 or TensorDataType.Int4 or TensorDataType.Float4E2M1
                or TensorDataType.UInt2 or TensorDataType.Int2:
                return PackSubByte(p.Int32Data, type, count);
            default:
                return p.Int32Data.Select(v => (byte)v).ToArray();
        }
    }

    /// <summary>Elements present in the proto's data fields (null when external or segmented: not checkable here).</summary>
    public static long? StoredElementCount(TensorProto p, TensorDataType type)
    {
        if (p.DataLocation == TensorProto.Types.DataLocation.External || p.Segment != null) return null;
        if (type == TensorDataType.String) return p.StringData.Count;
        var bits = TensorDataTypes.BitsPerElement(type);
        if (p.HasRawData) return bits >= 8 ? p.RawData.Length / (bits / 8) : null;
        return type switch
        {
            TensorDataType.Float => p.FloatData.Count,
            TensorDataType.Complex64 => p.FloatData.Count / 2,
            TensorDataType.Double => p.DoubleData.Count,
            TensorDataType.Complex128 => p.DoubleData.Count / 2,
            TensorDataType.Int64 => p.Int64Data.Count,
            TensorDataType.UInt64 or TensorDataType.UInt32 => p.Uint64Data.Count,
            _ when bits < 8 => null,
            _ => p.Int32Data.Count,
        };
    }

    private static byte[] PackSubByte(IReadOnlyList<int> values, TensorDataType type, long count)
    {
        // ONNX stores sub-byte types in int32_data already packed: one byte (2 int4 or 4 int2 elements, low bits first) per entry.
        var result = new byte[TensorDataTypes.RawByteCount(type, count)];
        for (var i = 0; i < Math.Min(values.Count, result.Length); i++) result[i] = (byte)values[i];
        return result;
    }

    /// <summary>A new proto holding <paramref name="t"/>'s data embedded (raw_data, or string_data for strings).</summary>
    public static TensorProto Embed(Tensor t, string name)
    {
        var p = new TensorProto { DataType = (int)t.DataType, Name = name };
        p.Dims.AddRange(t.Dims);
        if (t.DataType == TensorDataType.String) p.StringData.AddRange(t.Strings);
        else p.RawData = UnsafeByteOperations.UnsafeWrap(t.RawData);
        return p;
    }
}
