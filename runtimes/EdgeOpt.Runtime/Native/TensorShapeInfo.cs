namespace EdgeOpt.Runtime.Native;

/// <summary>Reads an <c>OrtTensorTypeAndShapeInfo*</c>: element type, dimensions (-1 when not fixed), symbolic names.</summary>
internal static unsafe class TensorShapeInfo
{
    public static (OnnxElementType Type, long[] Dims, string?[] Symbols) Read(OrtApi api, nint info, bool withSymbols)
    {
        int type;
        api.Check(api.GetTensorElementType(info, &type));
        nuint rank;
        api.Check(api.GetDimensionsCount(info, &rank));
        var dims = new long[(int)rank];
        var symbols = new string?[(int)rank];
        if (rank == 0) return (FromOrt(type), dims, symbols);
        fixed (long* d = dims) api.Check(api.GetDimensions(info, d, rank));
        if (withSymbols)
        {
            var names = new nint[(int)rank];
            fixed (nint* n = names) api.Check(api.GetSymbolicDimensions(info, (byte**)n, rank));
            for (var i = 0; i < names.Length; i++)
            {
                var s = Utf8.Read((byte*)names[i]);
                symbols[i] = s.Length == 0 ? null : s;
            }
        }
        return (FromOrt(type), dims, symbols);
    }

    /// <summary>
    /// ONNX Runtime's C API numbers the newest types UINT2 = 24, INT2 = 25, FLOAT8E8M0 = 26, where ONNX (and
    /// <see cref="OnnxElementType"/>) has FLOAT8E8M0 = 24, UINT2 = 25, INT2 = 26; every other number is the same.
    /// </summary>
    internal static OnnxElementType FromOrt(int type) => type switch
    {
        24 => OnnxElementType.UInt2,
        25 => OnnxElementType.Int2,
        26 => OnnxElementType.Float8E8M0,
        _ => (OnnxElementType)type,
    };
}
