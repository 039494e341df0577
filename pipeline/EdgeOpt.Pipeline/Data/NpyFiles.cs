using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Pipeline.Data;

/// <summary>
/// NumPy <c>.npy</c> arrays (format versions 1–3): little-endian numeric and bool dtypes in C order, read into a tensor.
/// Written by hand: no NumPy reader is on our package mirror.
/// </summary>
public static partial class NpyFiles
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static Tensor Read(string path, string name)
    {
        var bytes = File.ReadAllBytes(path);
        if (!bytes.AsSpan().StartsWith(Magic) || bytes.Length < 10) throw Bad(path, "not a .npy file (no \\x93NUMPY magic)");
        var major = bytes[6];
        var (headerLength, start) = major switch
        {
            1 => (BitConverter.ToUInt16(bytes, 8), 10),
            2 or 3 => ((int)BitConverter.ToUInt32(bytes, 8), 12),
            _ => throw Bad(path, $"format version {major} is not supported"),
        };
        if (start + headerLength > bytes.Length) throw Bad(path, "header is truncated");
        var header = Encoding.Latin1.GetString(bytes, start, headerLength);
        var descr = Field(header, "descr", path);
        if (FortranOrder().Match(header) is { Success: true } f && f.Groups[1].Value == "True") throw Bad(path, "Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
        var shapeText = ShapePattern().Match(header) is { Success: true } s ? s.Groups[1].Value : throw Bad(path, "header has no shape");
        long[] dims = [.. shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(d => long.Parse(d, CultureInfo.InvariantCulture))];
        var type = descr switch
        {
            "<f4" => TensorDataType.Float, "<f8" => TensorDataType.Double, "<f2" => TensorDataType.Float16,
            "|i1" => TensorDataType.Int8, "|u1" => TensorDataType.UInt8, "|b1" => TensorDataType.Bool,
            "<i2" => TensorDataType.Int16, "<u2" => TensorDataType.UInt16, "<i4" => TensorDataType.Int32, "<u4" => TensorDataType.UInt32,
            "<i8" => TensorDataType.Int64, "<u8" => TensorDataType.UInt64,
            _ => throw Bad(path, $"dtype '{descr}' is not supported (little-endian numeric or bool only)"),
        };
        var count = dims.Aggregate(1L, (a, b) => a * b);
        var byteCount = TensorDataTypes.RawByteCount(type, count);
        var dataStart = start + headerLength;
        if (dataStart + byteCount > bytes.Length) throw Bad(path, $"shape ({shapeText}) needs {byteCount} bytes of data, the file has {bytes.Length - dataStart}");
        return Tensor.FromRaw(name, type, dims, bytes.AsMemory(dataStart, (int)byteCount));
    }

    private static string Field(string header, string key, string path)
    {
        var m = Regex.Match(header, $"'{key}'\\s*:\\s*'([^']*)'");
        return m.Success ? m.Groups[1].Value : throw Bad(path, $"header has no '{key}'");
    }

    private static InvalidDataException Bad(string path, string message) => new($"{path}: {message}");

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranOrder();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
