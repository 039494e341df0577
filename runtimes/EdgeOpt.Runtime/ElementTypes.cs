namespace EdgeOpt.Runtime;

/// <summary>How ONNX element types map to .NET types and byte sizes.</summary>
public static class ElementTypes
{
    /// <summary>The element type of tensors of <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not a tensor element type.</exception>
    public static OnnxElementType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return OnnxElementType.Float;
        if (typeof(T) == typeof(double)) return OnnxElementType.Double;
        if (typeof(T) == typeof(Half)) return OnnxElementType.Float16;
        if (typeof(T) == typeof(sbyte)) return OnnxElementType.Int8;
        if (typeof(T) == typeof(byte)) return OnnxElementType.UInt8;
        if (typeof(T) == typeof(short)) return OnnxElementType.Int16;
        if (typeof(T) == typeof(ushort)) return OnnxElementType.UInt16;
        if (typeof(T) == typeof(int)) return OnnxElementType.Int32;
        if (typeof(T) == typeof(uint)) return OnnxElementType.UInt32;
        if (typeof(T) == typeof(long)) return OnnxElementType.Int64;
        if (typeof(T) == typeof(ulong)) return OnnxElementType.UInt64;
        if (typeof(T) == typeof(bool)) return OnnxElementType.Bool;
        throw new NotSupportedException(
            $"{typeof(T).Name} is not a tensor element type: use float, double, Half, sbyte, byte, short, ushort, int, uint, long, ulong or bool");
    }

    /// <summary>The .NET type that reads elements of <paramref name="type"/> (raw bytes for types .NET lacks).</summary>
    public static string ClrName(OnnxElementType type) => type switch
    {
        OnnxElementType.Float => "float",
        OnnxElementType.Double => "double",
        OnnxElementType.Float16 => "Half",
        OnnxElementType.Int8 => "sbyte",
        OnnxElementType.UInt8 => "byte",
        OnnxElementType.Int16 => "short",
        OnnxElementType.UInt16 => "ushort",
        OnnxElementType.Int32 => "int",
        OnnxElementType.UInt32 => "uint",
        OnnxElementType.Int64 => "long",
        OnnxElementType.UInt64 => "ulong",
        OnnxElementType.Bool => "bool",
        OnnxElementType.String => "string (GetStrings)",
        _ => "raw bytes (GetTensorBytes)",
    };

    /// <summary>The bytes <paramref name="count"/> elements of <paramref name="type"/> take (sub-byte types packed).</summary>
    /// <exception cref="NotSupportedException">String or undefined type.</exception>
    public static long ByteCount(OnnxElementType type, long count) => type switch
    {
        OnnxElementType.Float or OnnxElementType.Int32 or OnnxElementType.UInt32 => count * 4,
        OnnxElementType.Double or OnnxElementType.Int64 or OnnxElementType.UInt64 or OnnxElementType.Complex64 => count * 8,
        OnnxElementType.Complex128 => count * 16,
        OnnxElementType.Float16 or OnnxElementType.BFloat16 or OnnxElementType.Int16 or OnnxElementType.UInt16 => count * 2,
        OnnxElementType.Int8 or OnnxElementType.UInt8 or OnnxElementType.Bool or OnnxElementType.Float8E4M3FN
            or OnnxElementType.Float8E4M3FNUZ or OnnxElementType.Float8E5M2 or OnnxElementType.Float8E5M2FNUZ
            or OnnxElementType.Float8E8M0 => count,
        OnnxElementType.Int4 or OnnxElementType.UInt4 or OnnxElementType.Float4E2M1 => (count + 1) / 2,
        OnnxElementType.Int2 or OnnxElementType.UInt2 => (count + 3) / 4,
        _ => throw new NotSupportedException($"{type} elements have no fixed byte size"),
    };
}
