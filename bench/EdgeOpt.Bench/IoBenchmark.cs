using System.Globalization;
using System.Text;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Bench;

/// <summary>
/// Load and save throughput of the model reader/writer: the largest real model (embedded weights), and a synthetic
/// model of N MiB of weights stored as external data (lazy load, load with every tensor touched, save that streams
/// the external data). Prints a Markdown table and writes it to --out.
/// </summary>
public static class IoBenchmark
{
    public static int Run(string[] args)
    {
        var outDir = Arg(args, "--out") ?? Path.Combine("artifacts", "bench");
        var syntheticMiB = int.Parse(Arg(args, "--synthetic-mib") ?? "1024", CultureInfo.InvariantCulture);
        var runs = int.Parse(Arg(args, "--runs") ?? "5", CultureInfo.InvariantCulture);
        var realModel = Arg(args, "--model") ?? Path.Combine("artifacts", "models", "ppocrv4_rec.onnx");
        Directory.CreateDirectory(outDir);
        var work = Directory.CreateTempSubdirectory("edgeopt-bench-io-");
        var rows = new List<string>();
        try
        {
            if (File.Exists(realModel)) rows.AddRange(RealModel(realModel, work.FullName, runs));
            else Console.Error.WriteLine($"skipping the real model: '{realModel}' is absent (run ./build.sh --target=FetchAssets)");
            rows.AddRange(Synthetic(syntheticMiB, work.FullName, Math.Max(1, runs / 2)));
        }
        finally
        {
            work.Delete(recursive: true);
        }
        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; median of {runs} runs after a warm-up.")
            .AppendLine()
            .AppendLine("| case | bytes | median | MiB/s |")
            .AppendLine("|---|---:|---:|---:|");
        foreach (var r in rows) report.AppendLine(r);
        report.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Peak RSS: {EdgeOpt.Pipeline.Benchmarking.ProcessMemory.PeakRssBytes() / (1024 * 1024)} MiB");
        Console.Write(report);
        File.WriteAllText(Path.Combine(outDir, "io.md"), report.ToString());
        return 0;
    }

    private static IEnumerable<string> RealModel(string path, string work, int runs)
    {
        var bytes = new FileInfo(path).Length;
        var name = Path.GetFileName(path);
        var load = Measure.Median(runs, () => TouchAll(ModelReader.Read(path)));
        var model = ModelReader.Read(path);
        var target = Path.Combine(work, "real.onnx");
        var save = Measure.Median(runs, () => ModelWriter.Write(model, target));
        var roundTrip = Measure.Median(runs, () => ModelWriter.Write(ModelReader.Read(path), target));
        yield return Row($"{name}: load (parse + IR + touch all tensors)", bytes, load);
        yield return Row($"{name}: save (embedded)", bytes, save);
        yield return Row($"{name}: load + save", bytes, roundTrip);
    }

    private static IEnumerable<string> Synthetic(int mib, string work, int runs)
    {
        var source = Path.Combine(work, "synthetic.onnx");
        var layers = Math.Max(1, mib / 64);
        ModelWriter.Write(SyntheticModel(layers), source, new WriteOptions { ExternalDataThreshold = 1024 });
        var bytes = new FileInfo(source).Length + new FileInfo(source + ".data").Length;
        var target = Path.Combine(work, "out", "copy.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var lazy = Measure.Median(runs, () => ModelReader.Read(source));
        var touched = Measure.Median(runs, () => TouchAll(ModelReader.Read(source)));
        var save = Measure.Median(runs, () => ModelWriter.Write(ModelReader.Read(source), target));
        var label = $"synthetic {layers}×4096² fp32 ({layers * 64} MiB, external data)";
        yield return Row($"{label}: load (lazy: data stays on disk)", bytes, lazy);
        yield return Row($"{label}: load + touch every tensor", bytes, touched);
        yield return Row($"{label}: load + save (data streamed)", bytes, save);
    }

    /// <summary>MatMul chain with 4096×4096 float weights, 64 MiB each.</summary>
    private static Model SyntheticModel(int layers)
    {
        var graph = new Graph("synthetic");
        var x = graph.AddInput("x", TensorType.Of(TensorDataType.Float, 1, 4096));
        var random = new Random(42);
        for (var i = 0; i < layers; i++)
        {
            var data = new float[4096 * 4096];
            for (var j = 0; j < data.Length; j += 97) data[j] = (float)random.NextDouble();
            var w = graph.AddInitializer(Tensor.Create($"w{i}", [4096, 4096], data));
            x = graph.AddNode(OpTypes.MatMul, [x, w], [$"h{i}"]).Output(0);
        }
        graph.AddOutput(x);
        var model = new Model(graph) { ProducerName = "edgeopt-bench" };
        model.Opsets.Add(new OpsetId("", 17));
        return model;
    }

    private static long TouchAll(Model model)
    {
        long sum = 0;
        var initializers = model.Graph.SelfAndDescendants().SelectMany(g => g.Initializers).Select(v => v.Initializer!);
        var constants = model.Graph.AllNodes().Where(n => n.IsConstantNode).Select(ConstantNodes.ValueOf).OfType<Tensor>();
        foreach (var t in initializers.Concat(constants))
        {
            if (t.DataType != TensorDataType.String) sum += t.RawData.Length;
        }
        return sum;
    }

    private static string Row(string label, long bytes, TimeSpan time) =>
        string.Create(CultureInfo.InvariantCulture, $"| {label} | {bytes:N0} | {time.TotalMilliseconds:F1} ms | {Measure.MiBPerSecond(bytes, time):F0} |");

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
