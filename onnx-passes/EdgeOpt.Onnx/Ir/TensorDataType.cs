namespace EdgeOpt.Onnx.Ir;

/// <summary>ONNX tensor element types; the numbers are the ONNX <c>TensorProto.DataType</c> codes.</summary>
public enum TensorDataType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
    Float8E4M3FN = 17,
    Float8E4M3FNUZ = 18,
    Float8E5M2 = 19,
    Float8E5M2FNUZ = 20,
    UInt4 = 21,
    Int4 = 22,
    Float4E2M1 = 23,
    Float8E8M0 = 24,
    UInt2 = 25,
    Int2 = 26,
}

/// <summary>Sizes and names of <see cref="TensorDataType"/> values.</summary>
public static class TensorDataTypes
{
    /// <summary>True for codes this IR knows (everything in <see cref="TensorDataType"/> but Undefined).</summary>
    public static bool IsKnown(int code) => code is > 0 and <= (int)TensorDataType.Int2;

    /// <summary>Bits one element occupies in raw (little-endian, packed) storage; 0 for strings.</summary>
    public static int BitsPerElement(TensorDataType type) => type switch
    {
        TensorDataType.Float or TensorDataType.Int32 or TensorDataType.UInt32 => 32,
        TensorDataType.Double or TensorDataType.Int64 or TensorDataType.UInt64 or TensorDataType.Complex64 => 64,
        TensorDataType.Complex128 => 128,
        TensorDataType.Float16 or TensorDataType.BFloat16 or TensorDataType.Int16 or TensorDataType.UInt16 => 16,
        TensorDataType.UInt8 or TensorDataType.Int8 or TensorDataType.Bool => 8,
        TensorDataType.Float8E4M3FN or TensorDataType.Float8E4M3FNUZ or TensorDataType.Float8E5M2
            or TensorDataType.Float8E5M2FNUZ or TensorDataType.Float8E8M0 => 8,
        TensorDataType.UInt4 or TensorDataType.Int4 or TensorDataType.Float4E2M1 => 4,
        TensorDataType.UInt2 or TensorDataType.Int2 => 2,
        TensorDataType.String => 0,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown tensor data type"),
    };

    /// <summary>Bytes needed to store <paramref name="count"/> elements in raw form (sub-byte types packed).</summary>
    public static long RawByteCount(TensorDataType type, long count) => (count * BitsPerElement(type) + 7) / 8;

    /// <summary>The ONNX spelling, e.g. <c>float</c>, <c>int64</c>, <c>float16</c>.</summary>
    public static string OnnxName(TensorDataType type) => type switch
    {
        TensorDataType.Float => "float",
        TensorDataType.Float16 => "float16",
        TensorDataType.BFloat16 => "bfloat16",
        TensorDataType.Double => "double",
        TensorDataType.Bool => "bool",
        TensorDataType.String => "string",
        _ => type.ToString().ToLowerInvariant(),
    };

    /// <summary>The element type a CLR type stands for in typed span access, or Undefined.</summary>
    public static TensorDataType FromClr<T>() where T : unmanaged
    {
        var t = typeof(T);
        if (t == typeof(float)) return TensorDataType.Float;
        if (t == typeof(double)) return TensorDataType.Double;
        if (t == typeof(Half)) return TensorDataType.Float16;
        if (t == typeof(sbyte)) return TensorDataType.Int8;
        if (t == typeof(byte)) return TensorDataType.UInt8;
        if (t == typeof(short)) return TensorDataType.Int16;
        if (t == typeof(ushort)) return TensorDataType.UInt16;
        if (t == typeof(int)) return TensorDataType.Int32;
        if (t == typeof(uint)) return TensorDataType.UInt32;
        if (t == typeof(long)) return TensorDataType.Int64;
        if (t == typeof(ulong)) return TensorDataType.UInt64;
        if (t == typeof(bool)) return TensorDataType.Bool;
        return TensorDataType.Undefined;
    }

    /// <summary>Whether elements of <paramref name="type"/> may be viewed as <typeparamref name="T"/>.</summary>
    public static bool IsViewableAs<T>(TensorDataType type) where T : unmanaged
    {
        var clr = FromClr<T>();
        if (clr == type) return true;
        return (clr, type) switch
        {
            (TensorDataType.UInt8, TensorDataType.Bool) => true,
            (TensorDataType.UInt16, TensorDataType.BFloat16 or TensorDataType.Float16) => true,
            (TensorDataType.UInt8, TensorDataType.Float8E4M3FN or TensorDataType.Float8E4M3FNUZ
                or TensorDataType.Float8E5M2 or TensorDataType.Float8E5M2FNUZ or TensorDataType.Float8E8M0) => true,
            _ => false,
        };
    }
}
