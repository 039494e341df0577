using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;

namespace EdgeOpt.Pipeline.Tests.Execution;

/// <summary>Helpers of the execution tests: ONNX Runtime or an ignored test, and tensor comparison with a tolerance.</summary>
internal static class ExecutionTestKit
{
    /// <summary>The exact-rewrite tier of the design notes.</summary>
    public const double ExactRelativeTolerance = 1e-4;

    /// <summary>The exact-rewrite tier of the design notes.</summary>
    public const double ExactAbsoluteTolerance = 1e-5;

    /// <summary>The library found by the default search, or an ignored test with the reason.</summary>
    public static OrtLibrary Library
    {
        get
        {
            try
            {
                return OrtLibrary.Load();
            }
            catch (OrtLibraryNotFoundException e)
            {
                Assert.Ignore($"ONNX Runtime is absent: {e.Message}");
                throw;
            }
        }
    }

    /// <summary>CPU settings at <paramref name="level"/>, after checking that the library loads (an ignored test otherwise).</summary>
    public static RuntimeSettings Settings(GraphOptimizationLevel level = GraphOptimizationLevel.All)
    {
        _ = Library;
        return new RuntimeSettings(OptimizationLevel: level);
    }

    /// <summary>
    /// Null when <paramref name="actual"/> matches <paramref name="expected"/>: same element type and shape; floating
    /// types (float8 included) within |a − e| ≤ atol + rtol·|e|, NaN equal to NaN whatever its bits, infinities equal
    /// when of one sign; every other type (integers, bool, string, packed 4- and 2-bit) bit for bit. Otherwise the
    /// difference, in words.
    /// </summary>
    public static string? Difference(Tensor actual, Tensor expected, double rtol, double atol)
    {
        if (actual.DataType != expected.DataType) return $"element type {actual.DataType}, expected {expected.DataType}";
        if (!actual.Dims.SequenceEqual(expected.Dims)) return $"shape [{string.Join(",", actual.Dims)}], expected [{string.Join(",", expected.Dims)}]";
        return actual.DataType switch
        {
            TensorDataType.Float or TensorDataType.Float16 or TensorDataType.BFloat16 =>
                FloatDifference(actual.ToSingles().Select(v => (double)v).ToArray(), expected.ToSingles().Select(v => (double)v).ToArray(), rtol, atol),
            TensorDataType.Double => FloatDifference(actual.ToArray<double>(), expected.ToArray<double>(), rtol, atol),
            TensorDataType.Float8E4M3FN or TensorDataType.Float8E4M3FNUZ or TensorDataType.Float8E5M2 or TensorDataType.Float8E5M2FNUZ
                or TensorDataType.Float8E8M0 =>
                FloatDifference(Float8.Decode(actual.DataType, actual.RawData.Span), Float8.Decode(expected.DataType, expected.RawData.Span), rtol, atol),
            TensorDataType.String => StringDifference(actual, expected),
            _ => ByteDifference(actual.RawData.Span, expected.RawData.Span),
        };
    }

    /// <summary>Fails with the difference when <paramref name="actual"/> does not match <paramref name="expected"/>.</summary>
    public static void AssertMatches(Tensor actual, Tensor expected, double rtol, double atol, string what)
    {
        var difference = Difference(actual, expected, rtol, atol);
        Assert.That(difference, Is.Null, $"{what}: {difference}");
    }

    /// <summary>Elements of a floating tensor that are NaN or infinite (0 for other types).</summary>
    public static long NonFiniteCount(Tensor tensor) => tensor.DataType switch
    {
        TensorDataType.Float or TensorDataType.Float16 or TensorDataType.BFloat16 => tensor.ToSingles().LongCount(v => !float.IsFinite(v)),
        TensorDataType.Double => tensor.ToArray<double>().LongCount(v => !double.IsFinite(v)),
        _ => 0,
    };

    /// <summary>A stable digest of a file's bytes.</summary>
    public static string Sha256(string path) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));

    private static string? FloatDifference(double[] actual, double[] expected, double rtol, double atol)
    {
        var first = -1;
        var count = 0;
        var maxError = 0.0;
        for (var i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (double.IsNaN(a) && double.IsNaN(e)) continue;
            var close = double.IsFinite(a) && double.IsFinite(e) ? Math.Abs(a - e) <= atol + rtol * Math.Abs(e) : a == e;
            if (close) continue;
            if (first < 0) first = i;
            count++;
            maxError = double.IsNaN(a - e) ? double.NaN : Math.Max(maxError, Math.Abs(a - e));
        }
        if (count == 0) return null;
        var largest = expected.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        return $"{count} of {actual.Length} elements off (rtol {rtol}, atol {atol}); element {first} is {actual[first]:R}, " +
            $"expected {expected[first]:R}; largest error {maxError:G3} against a largest |expected| of {largest:G3}";
    }

    private static string? StringDifference(Tensor actual, Tensor expected)
    {
        for (var i = 0; i < actual.Strings.Count; i++)
        {
            if (actual.Strings[i] != expected.Strings[i])
            {
                return $"element {i} is '{actual.Strings[i].ToStringUtf8()}', expected '{expected.Strings[i].ToStringUtf8()}'";
            }
        }
        return null;
    }

    private static string? ByteDifference(ReadOnlySpan<byte> actual, ReadOnlySpan<byte> expected)
    {
        if (actual.Length != expected.Length) return $"{actual.Length} bytes, expected {expected.Length}";
        var at = actual.CommonPrefixLength(expected);
        return at == actual.Length ? null : $"byte {at} is 0x{actual[at]:x2}, expected 0x{expected[at]:x2}";
    }
}
