using System.Diagnostics;
using System.Globalization;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Runtime;

namespace EdgeOpt.Bench;

/// <summary>
/// Leak check: a million runs of a small model through the whole binding path (a new input OrtValue over pinned
/// managed memory, Run, outputs read and disposed, every run), with RSS and managed heap sampled along the way.
/// </summary>
public static class SoakBenchmark
{
    public static int Run(string[] args)
    {
        var model = Args.Value(args, "--model") ?? Path.Combine("..", "shared", "models", "mnist-8.onnx");
        var runs = long.Parse(Args.Value(args, "--runs") ?? "1000000", CultureInfo.InvariantCulture);
        var library = OrtLibrary.Load();
        using var options = new SessionOptions(library) { IntraOpThreads = 1 };
        using var session = new InferenceSession(library, Path.GetFullPath(model), options);
        var input = session.Inputs[0];
        var shape = input.Shape.Select(d => d < 0 ? 1 : d).ToArray();
        var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
        var random = new Random(1);
        for (var i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble();
        var names = new[] { input.Name };
        Console.Error.WriteLine($"{library}; {runs:N0} runs of {Path.GetFileName(model)}");

        var checkpoints = new SortedSet<long> { 1_000, runs / 10, runs / 4, runs / 2, runs * 3 / 4, runs };
        var rows = new List<(long Runs, long Rss, long Heap, double Seconds)>();
        var clock = Stopwatch.StartNew();
        float checksum = 0;
        for (long i = 1; i <= runs; i++)
        {
            using (var value = OrtValue.CreateTensor(library, data, shape))
            using (var outputs = session.Run(names, [value], session.OutputNames))
            {
                checksum += outputs[0].GetTensorData<float>()[0];
            }
            if (checkpoints.Contains(i))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                rows.Add((i, ProcessMemory.RssBytes(), GC.GetTotalMemory(forceFullCollection: true), clock.Elapsed.TotalSeconds));
            }
        }
        Console.WriteLine("| runs | RSS | managed heap | elapsed |");
        Console.WriteLine("|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Runs:N0} | {r.Rss / 1048576.0:F1} MiB | {r.Heap / 1048576.0:F2} MiB | {r.Seconds:F1} s |"));
        }
        // The first tenth warms allocator arenas and the JIT; a leak shows as growth after it.
        var steady = rows.First(r => r.Runs >= runs / 10);
        var growth = rows[^1].Rss - steady.Rss;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RSS from run {steady.Runs:N0} to {rows[^1].Runs:N0}: {growth / 1048576.0:+0.0;-0.0} MiB ({growth / (double)Math.Max(1, rows[^1].Runs - steady.Runs):F3} bytes/run); peak {ProcessMemory.PeakRssBytes() / 1048576.0:F1} MiB; checksum {checksum:G6}"));
        return 0;
    }
}
