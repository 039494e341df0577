using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Fidelity;
using EdgeOpt.Pipeline.Optimization;

namespace EdgeOpt.Bench;

/// <summary>
/// int8 side by side: for each real model with a data set, fp32 vs quantize-dynamic vs quantize-static QDQ vs QOperator
/// (percentile calibration on the data set, the host's int8 policy), built the way <c>edgeopt optimize</c> builds them.
/// Reports size, p50 latency at 1 and 2 threads (variants alternated in every round, median of the rounds' p50s, as
/// speed-ups over fp32 measured in the same round), cosine and top-1 against fp32 on the data set, and for the OCR
/// recognizer the greedy-CTC text of every line compared with fp32's.
/// </summary>
public static class QuantBenchmark
{
    private sealed record Case(string Name, string Model, string Data, bool Ctc = false);

    private sealed record Variant(string Name, string Path, long Bytes, VerifyReport? Fidelity, int? SameText, string? Note);

    public static int Run(string[] args)
    {
        var root = Args.Value(args, "--root") ?? Directory.GetCurrentDirectory();
        var outDir = Path.GetFullPath(Args.Value(args, "--out") ?? Path.Combine(root, "artifacts", "bench", "quant"));
        var rounds = int.Parse(Args.Value(args, "--rounds") ?? "3", CultureInfo.InvariantCulture);
        var seconds = double.Parse(Args.Value(args, "--seconds") ?? "1.5", CultureInfo.InvariantCulture);
        var threads = (Args.Value(args, "--threads") ?? "1,2").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToList();
        var only = Args.Value(args, "--models")?.Split(',').ToHashSet(StringComparer.Ordinal);
        var shared = Path.GetFullPath(Path.Combine(root, "..", "shared"));
        var artifacts = Path.Combine(root, "artifacts", "models");
        var cases = new List<Case>
        {
            new("ppocrv4_det", Path.Combine(artifacts, "ppocrv4_det.onnx"), Path.Combine(shared, "data", "ocr_det")),
            new("ppocrv4_rec", Path.Combine(artifacts, "ppocrv4_rec.onnx"), Path.Combine(shared, "data", "ocr_rec"), Ctc: true),
            new("ppocr_mobile_v2_cls", Path.Combine(artifacts, "ppocr_mobile_v2_cls.onnx"), Path.Combine(shared, "data", "ocr_cls")),
            new("fastestdet", Path.Combine(shared, "models", "fastestdet.onnx"), Path.Combine(shared, "data", "fastestdet")),
            new("ultraface_rfb320", Path.Combine(shared, "models", "ultraface_rfb320.onnx"), Path.Combine(shared, "data", "ultraface_rfb320")),
            new("msra_190729", Path.Combine(shared, "models", "msra_190729", "model.onnx"), Path.Combine(shared, "models", "msra_190729")),
            new("embedding_model", Path.Combine(artifacts, "openwakeword", "embedding_model.onnx"), Path.Combine(shared, "data", "speech_embed")),
        };
        var keys = Path.Combine(artifacts, "ppocr_keys_v1.txt");
        Directory.CreateDirectory(outDir);
        var settings = new RuntimeSettings(IntraOpThreads: 1);
        var policy = Int8Target.Parse("host").Policy();
        var catalog = PassCatalog.CreateDefault();
        Console.Error.WriteLine($"{settings.LoadLibrary()}; int8 policy: {policy}; {rounds} rounds × {seconds} s per measurement; threads {string.Join(",", threads)}");

        var table = new StringBuilder();
        table.AppendLine("| model | variant | size (× smaller) | " + string.Join(" | ", threads.Select(t => $"p50 {t}T (speed-up)")) + " | cosine | top-1 | note |");
        table.AppendLine("|---|---|---|" + string.Concat(threads.Select(_ => "---|")) + "---|---|---|");
        var json = new List<object>();
        foreach (var c in cases)
        {
            if (only != null && !only.Contains(c.Name)) continue;
            if (!File.Exists(c.Model) || !Directory.Exists(c.Data))
            {
                Console.Error.WriteLine($"{c.Name}: skipped, {c.Model} or {c.Data} is absent (run ./build.sh --target=FetchAssets; ../shared must be beside the repo)");
                continue;
            }
            var model = ModelReader.Read(c.Model);
            var samples = TestDataSets.Load(c.Data, [.. model.Graph.Inputs.Where(i => !i.IsInitializer)], model.Graph.Outputs);
            var reference = ReferenceOutputs.Run(c.Model, samples, settings);
            var referenceText = c.Ctc ? samples.Select(s => CtcText.Decode(reference[s].Values.First(), keys)).ToList() : null;

            var variants = new List<Variant> { new("fp32", c.Model, new FileInfo(c.Model).Length, null, referenceText?.Count, null) };
            foreach (var (name, pass, fallback) in Quantizers(policy, settings, c.Data))
            {
                if (fallback != null && variants.Last().Fidelity?.MinCosine >= Target) continue;
                var path = Path.Combine(outDir, $"{c.Name}.{name.Replace(' ', '_').Replace("≥", "")}.onnx");
                var calibration = new OrtCalibrationProvider(m => CalibrationSource.Open(c.Data, m),
                    new CalibrationOptions { Method = CalibrationMethod.Percentile, Settings = settings });
                var passes = new List<IPass> { new RemoveInitializerInputsPass() };
                passes.AddRange(PassCatalog.CleanupSequence.Select(id => catalog.Create(id)));
                if (fallback == null) passes.Add(pass(new QuantSelection([])));
                var result = ModelOptimizer.Run(new OptimizeRequest(c.Model, path, passes, FinalStage: fallback), new PassContext { Calibration = calibration });
                var summary = result.Reports.Last().Changes.Concat(result.Reports.Last().Skips).FirstOrDefault(e => e.Target == "summary")?.Message;
                using var runner = OrtModelRunner.Open(path, settings);
                var outputs = new Dictionary<Sample, IReadOnlyDictionary<string, Tensor>>(ReferenceEqualityComparer.Instance);
                var fidelity = reference.Compare(s => outputs[s] = runner.Run(s));
                int? same = referenceText == null ? null : samples.Select((s, i) => CtcText.Decode(outputs[s].Values.First(), keys) == referenceText[i] ? 1 : 0).Sum();
                if (fallback?.LastResult is { } fr) summary = $"{fr.FloatNodes.Count} nodes kept float ({fr.FloatMacs / (double)Math.Max(1, fr.QuantizedMacs):P1} of the int8 MACs): {string.Join(", ", fr.FloatNodes.Take(6).Select(n => n.Node))}{(fr.FloatNodes.Count > 6 ? ", …" : "")}";
                variants.Add(new Variant(name, path, result.Written.TotalBytes, fidelity, same, summary));
                Console.Error.WriteLine($"{c.Name} {name}: {result.Written.TotalBytes} bytes, cosine {fidelity.MinCosine:F6}{(same is { } s ? $", text {s}/{samples.Count}" : "")}; {summary}");
            }

            var latency = new Dictionary<(string, int), List<double>>();
            var ratios = new Dictionary<(string, int), List<double>>();
            foreach (var t in threads)
            {
                var options = new BenchmarkOptions(Warmup: 5, Duration: TimeSpan.FromSeconds(seconds), ProfileNodes: false);
                for (var r = 0; r < rounds; r++)
                {
                    double fp32 = 0;
                    foreach (var v in variants)
                    {
                        var p50 = Benchmark.Run(v.Path, [samples[0]], settings with { IntraOpThreads = t }, options).LatencyMs.P50;
                        if (v.Name == "fp32") fp32 = p50;
                        Add(latency, (v.Name, t), p50);
                        Add(ratios, (v.Name, t), fp32 / p50);
                    }
                }
                Console.Error.WriteLine($"{c.Name} {t} threads: " + string.Join(", ", variants.Select(v => $"{v.Name} {LatencyStats.Median(latency[(v.Name, t)]):F3} ms")));
            }

            var fp32Bytes = variants[0].Bytes;
            foreach (var v in variants)
            {
                var cells = threads.Select(t => v.Name == "fp32"
                    ? $"{LatencyStats.Median(latency[(v.Name, t)]):F3} ms"
                    : $"{LatencyStats.Median(latency[(v.Name, t)]):F3} ms ({LatencyStats.Median(ratios[(v.Name, t)]):F2}×)");
                var top1 = v.Fidelity?.MinTop1 is { } a ? $"{a:P1}" : "—";
                var text = v.SameText is { } same && v.Fidelity != null ? $"; CTC text = fp32 on {same}/{samples.Count} lines" : "";
                table.AppendLine($"| {c.Name} | {v.Name} | {Size(v.Bytes)} (×{fp32Bytes / (double)v.Bytes:F2}) | {string.Join(" | ", cells)} | " +
                    $"{(v.Fidelity is { } f ? f.MinCosine.ToString("F4", CultureInfo.InvariantCulture) : "—")} | {top1} | {(v.Note ?? "") + text} |");
                json.Add(new
                {
                    model = c.Name,
                    variant = v.Name,
                    bytes = v.Bytes,
                    p50Ms = threads.ToDictionary(t => t.ToString(CultureInfo.InvariantCulture), t => LatencyStats.Median(latency[(v.Name, t)])),
                    speedup = threads.ToDictionary(t => t.ToString(CultureInfo.InvariantCulture), t => LatencyStats.Median(ratios[(v.Name, t)])),
                    cosine = v.Fidelity?.MinCosine,
                    top1 = v.Fidelity?.MinTop1,
                    sameText = v.SameText,
                    samples = samples.Count,
                    note = v.Note,
                });
            }
        }
        Console.WriteLine(table.ToString());
        File.WriteAllText(Path.Combine(outDir, "quant.md"), table.ToString());
        File.WriteAllText(Path.Combine(outDir, "quant.json"), JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private const double Target = 0.99;

    /// <summary>
    /// The variants: dynamic, static QDQ, static QOperator, and (measured only when static QDQ misses cosine ≥ 0.99) static QDQ
    /// with the accuracy-aware fallback to that target, evaluated on the same data set it was calibrated on.
    /// </summary>
    private static IEnumerable<(string Name, Func<QuantSelection, IPass> Pass, AccuracyFallback? Fallback)> Quantizers(QuantizationPolicy policy, RuntimeSettings settings, string data)
    {
        var activation = policy.SignedActivations ? QuantType.S8 : QuantType.U8;
        var qdq = new QuantizeStaticOptions { ActivationType = activation, ReduceRange = policy.ReduceRange, UpgradeOpset = true };
        yield return ("dynamic", _ => new QuantizeDynamicPass(new QuantizeDynamicOptions { UpgradeOpset = true }), null);
        yield return ("static QOperator", _ => new QuantizeStaticPass(qdq with { Format = QuantFormat.QOperator }), null);
        Func<QuantSelection, IPass> select = pick => new QuantizeStaticPass(qdq with { ExcludeNodes = [.. pick.Float], IncludeNodes = [.. pick.Only ?? []] });
        yield return ("static QDQ", select, null);
        yield return ($"static QDQ, cosine ≥ {Target}", select, new AccuracyFallback(select, m => CalibrationSource.Open(data, m).ToList(),
            new FallbackOptions(new AccuracyTarget(AccuracyMetric.Cosine, Target), settings, CostRuns: 0)));
    }

    private static void Add(Dictionary<(string, int), List<double>> map, (string, int) key, double value)
    {
        if (!map.TryGetValue(key, out var list)) map[key] = list = [];
        list.Add(value);
    }

    private static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes / (double)(1 << 20):F2} MiB" : $"{bytes / 1024.0:F0} KiB";
}
