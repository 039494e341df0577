using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Pipeline.Tests.Execution;

/// <summary>
/// Decodes ONNX's 8-bit float formats to double, so outputs can be compared as numbers (two NaN bit patterns are
/// both NaN). Layouts from the ONNX spec (docs/Float8.md): sign, exponent, mantissa bits and bias per format.
/// </summary>
internal static class Float8
{
    private const int E4M3Bias = 7;
    private const int E4M3FnuzBias = 8;
    private const int E5M2Bias = 15;
    private const int E5M2FnuzBias = 16;
    private const int E8M0Bias = 127;
    private const byte FnuzNaN = 0x80;
    private const byte E8M0NaN = 0xFF;

    /// <summary>Each byte of <paramref name="raw"/> as the value it encodes in <paramref name="type"/>.</summary>
    public static double[] Decode(TensorDataType type, ReadOnlySpan<byte> raw)
    {
        var result = new double[raw.Length];
        for (var i = 0; i < raw.Length; i++) result[i] = Decode(type, raw[i]);
        return result;
    }

    /// <summary>The value <paramref name="bits"/> encodes in <paramref name="type"/>.</summary>
    public static double Decode(TensorDataType type, byte bits) => type switch
    {
        // E4M3FN: no infinities; S.1111.111 is NaN.
        TensorDataType.Float8E4M3FN => (bits & 0x7F) == 0x7F ? double.NaN : Finite(bits, 3, E4M3Bias),
        // FNUZ: no infinities, no negative zero; 0x80 is the only NaN.
        TensorDataType.Float8E4M3FNUZ => bits == FnuzNaN ? double.NaN : Finite(bits, 3, E4M3FnuzBias),
        TensorDataType.Float8E5M2FNUZ => bits == FnuzNaN ? double.NaN : Finite(bits, 2, E5M2FnuzBias),
        // E5M2: IEEE-like; exponent 11111 is infinity (mantissa 0) or NaN.
        TensorDataType.Float8E5M2 => (bits & 0x7C) == 0x7C
            ? (bits & 0x03) == 0 ? ((bits & 0x80) != 0 ? double.NegativeInfinity : double.PositiveInfinity) : double.NaN
            : Finite(bits, 2, E5M2Bias),
        // E8M0: an unsigned power of two, 2^(e − 127); 0xFF is NaN.
        TensorDataType.Float8E8M0 => bits == E8M0NaN ? double.NaN : Math.Pow(2, bits - E8M0Bias),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an 8-bit float type"),
    };

    private static double Finite(byte bits, int mantissaBits, int bias)
    {
        var sign = (bits & 0x80) != 0 ? -1.0 : 1.0;
        var exponent = (bits & 0x7F) >> mantissaBits;
        var mantissa = bits & ((1 << mantissaBits) - 1);
        var scale = 1 << mantissaBits;
        return exponent == 0
            ? sign * mantissa / scale * Math.Pow(2, 1 - bias)
            : sign * (1 + (double)mantissa / scale) * Math.Pow(2, exponent - bias);
    }
}
