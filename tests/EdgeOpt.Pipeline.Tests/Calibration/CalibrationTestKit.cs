using System.Globalization;
using System.Text;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;

namespace EdgeOpt.Pipeline.Tests.Calibration;

/// <summary>Helpers of the calibration tests: seeded distributions, .npy writing, a temporary folder, ONNX Runtime or an ignored test.</summary>
internal static class CalibrationTestKit
{
    /// <summary>Runtime settings for the default library, or an ignored test saying it is absent.</summary>
    public static RuntimeSettings OrtSettings()
    {
        var settings = new RuntimeSettings(OptimizationLevel: GraphOptimizationLevel.Disabled);
        try
        {
            settings.LoadLibrary();
        }
        catch (OrtLibraryNotFoundException e)
        {
            Assert.Ignore($"ONNX Runtime is absent: {e.Message}");
        }
        return settings;
    }

    /// <summary>Seeded uniform values in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static float[] Uniform(int count, float low, float high, int seed)
    {
        var r = new Random(seed);
        var data = new float[count];
        for (var i = 0; i < count; i++) data[i] = (float)(low + r.NextDouble() * (high - low));
        return data;
    }

    /// <summary>Seeded standard normal values (Box–Muller).</summary>
    public static float[] Gaussian(int count, int seed, double sigma = 1)
    {
        var r = new Random(seed);
        var data = new float[count];
        for (var i = 0; i < count; i++)
        {
            var u1 = 1 - r.NextDouble();
            var u2 = r.NextDouble();
            data[i] = (float)(sigma * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return data;
    }

    /// <summary>Writes a little-endian C-order .npy file (format 1.0).</summary>
    public static void WriteNpy<T>(string path, long[] shape, T[] data) where T : unmanaged
    {
        var descr = typeof(T) == typeof(float) ? "<f4" : typeof(T) == typeof(double) ? "<f8" : typeof(T) == typeof(long) ? "<i8"
            : throw new NotSupportedException(typeof(T).Name);
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        var padded = header.PadRight(((10 + header.Length + 1 + 63) / 64 * 64) - 10 - 1) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)padded.Length));
        stream.Write(Encoding.Latin1.GetBytes(padded));
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
    }

    /// <summary>The (lower edge, count) of every non-empty bin: comparable across collectors whose windows sit differently.</summary>
    public static IReadOnlyList<(double Edge, long Count)> NonEmptyBins(Pipeline.Calibration.HistogramCollector h)
    {
        var result = new List<(double, long)>();
        for (var i = 0; i < h.BinCount; i++)
        {
            if (h.Counts[i] != 0) result.Add((h.BinLowerEdge(i), h.Counts[i]));
        }
        return result;
    }

    /// <summary>A float tensor of shape [1, n].</summary>
    public static Tensor Row(string name, float[] data) => Tensor.Create(name, [1, data.Length], data);
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("edgeopt-calib-").FullName;

    public string Sub(string name) => Directory.CreateDirectory(System.IO.Path.Combine(Path, name)).FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
