using System.Globalization;
using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Runtime.Tests;

/// <summary>
/// Leak checks: many create/run/dispose cycles must not grow the process's resident memory. Each cycle moves 64 KiB
/// tensors (a pinned input copy, an ONNX Runtime output) and a string tensor, so failing to release any one of them
/// per cycle would add over a gigabyte by the end, far beyond the margin that absorbs JIT and GC warm-up.
/// </summary>
public class SoakTests
{
    private const int Warmup = 2_000;
    private const int Total = 20_000;
    private const int Side = 128;
    private const long MarginBytes = 16L << 20;

    [Test]
    public void Run_TwentyThousandCyclesCreatingAndDisposingValues_ResidentMemoryStaysFlat()
    {
        if (!File.Exists("/proc/self/status")) Assert.Ignore("/proc/self/status (Linux) is needed to read the resident set size");
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.Identity(TensorDataType.Float, Side, Side));
        var input = Ort.Random(Side * Side, seed: 11);
        string[] names = ["x"];
        long afterWarmup = 0;

        for (var i = 1; i <= Total; i++)
        {
            using (var x = OrtValue.CreateTensor<float>(library, input.AsSpan(), [Side, Side]))
            using (var outputs = session.Run(names, [x], session.OutputNames))
            {
                var y = outputs[0].GetTensorData<float>();
                if (y[i % y.Length] != input[i % input.Length]) Assert.Fail($"cycle {i}: the output differs from the input");
            }
            using (var s = OrtValue.CreateStringTensor(library, ["soak", "test"], [2]))
            {
                if (s.GetStrings()[1] != "test") Assert.Fail($"cycle {i}: the string tensor lost its value");
            }
            if (i == Warmup) afterWarmup = SettledRss();
        }
        var atEnd = SettledRss();

        TestContext.Out.WriteLine($"RSS after {Warmup} cycles: {afterWarmup >> 10} KiB; after {Total}: {atEnd >> 10} KiB");
        Assert.That(atEnd - afterWarmup, Is.LessThan(MarginBytes),
            $"resident memory grew by {(atEnd - afterWarmup) >> 10} KiB over {Total - Warmup} cycles");
    }

    private static long SettledRss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var kib = line["VmRSS:".Length..].Trim().Split(' ')[0];
            return long.Parse(kib, CultureInfo.InvariantCulture) << 10;
        }
        throw new InvalidOperationException("no VmRSS line in /proc/self/status");
    }
}
