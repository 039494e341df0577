using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeOpt.Pipeline.Reports;

/// <summary>One variant timed on one target/execution provider.</summary>
/// <param name="Target">The target profile or board (e.g. x64-cpu, rpi4@kitchen).</param>
/// <param name="Ep">The execution provider(s) that ran it (e.g. cpu, tensorrt&gt;cuda&gt;cpu).</param>
public sealed record VariantLatency(string Target, string Ep, int Threads, double P50Ms, double P90Ms, double P99Ms, double ThroughputPerSec);

/// <summary>A layer's MACs in the baseline and in a variant (null where it does not exist or shapes are unknown).</summary>
public sealed record LayerMacs(string Node, string OpType, long? Before, long? After);

/// <summary>One model variant (the original, or what a recipe made of it): size, cost, fidelity and timings.</summary>
/// <param name="Name">E.g. original, pruned, int8.</param>
/// <param name="Path">The model file.</param>
/// <param name="SizeBytes">The model on disk (with external data).</param>
/// <param name="Parameters">Weights (elements of initializers and constants).</param>
/// <param name="Macs">Multiply-accumulates at the evaluated input shapes (null: unknown).</param>
/// <param name="Cosine">Lowest output cosine against the baseline on the evaluation data (null for the baseline).</param>
/// <param name="Top1">Lowest top-1 agreement against the baseline where outputs are class scores.</param>
/// <param name="Latency">Timings per target/EP.</param>
/// <param name="Layers">Per-layer MACs against the baseline (may be empty).</param>
public sealed record VariantResult(
    string Name,
    string? Path,
    long SizeBytes,
    long Parameters,
    long? Macs,
    double? Cosine,
    double? Top1,
    IReadOnlyList<VariantLatency> Latency,
    IReadOnlyList<LayerMacs> Layers);

/// <summary>The variants of one model; the first (or the one named <paramref name="Baseline"/>) is what the others are compared with.</summary>
public sealed record ModelResults(string Model, IReadOnlyList<VariantResult> Variants, string? Baseline = null)
{
    /// <summary>The variant the metrics are relative to.</summary>
    [JsonIgnore]
    public VariantResult Reference => Variants.FirstOrDefault(v => v.Name == Baseline) ?? Variants[0];
}

/// <summary>
/// The results of one or more runs, as <c>edgeopt compare</c>/<c>run</c> write them and <c>edgeopt report</c> reads them
/// (format <see cref="FormatId"/>, camelCase JSON).
/// </summary>
public sealed record ResultsFile(IReadOnlyList<ModelResults> Models, string Format = ResultsFile.FormatId)
{
    public const string FormatId = "edgeopt-results/1";

    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Reads a results file.</summary>
    /// <exception cref="ArgumentException">Not JSON, not this format, or a model without variants; the message names the file.</exception>
    public static ResultsFile Read(string path)
    {
        ResultsFile? file;
        try
        {
            var text = File.ReadAllText(path);
            using (var doc = JsonDocument.Parse(text))
            {
                var format = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("format", out var f) ? f.ToString() : null;
                if (format != FormatId) throw new ArgumentException($"{path}: format is '{format}', expected '{FormatId}'; results come from `edgeopt compare` or `edgeopt run`");
            }
            file = JsonSerializer.Deserialize<ResultsFile>(text, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{path}: not an EdgeOpt results file ({e.Message}); results come from `edgeopt compare` or `edgeopt run`");
        }
        catch (IOException e)
        {
            throw new ArgumentException($"{path}: cannot read it: {e.Message}");
        }
        if (file?.Models is not { Count: > 0 }) throw new ArgumentException($"{path}: the results hold no models");
        if (file.Models.Any(m => m.Variants is not { Count: > 0 })) throw new ArgumentException($"{path}: every model needs at least one variant");
        return file;
    }

    /// <summary>Writes the file atomically (temporary file, then moved into place).</summary>
    public void Write(string path)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, JsonOptions));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// Several files' models in one: a model named again gets the new variants appended, and a variant named again gets the
    /// timings on targets it did not have (e.g. boards measured by <c>edgeopt deploy --hosts</c> added to <c>compare</c> results).
    /// </summary>
    public static ResultsFile Merge(IEnumerable<ResultsFile> files)
    {
        var byModel = new List<ModelResults>();
        foreach (var m in files.SelectMany(f => f.Models))
        {
            var at = byModel.FindIndex(x => x.Model == m.Model);
            if (at < 0)
            {
                byModel.Add(m);
                continue;
            }
            var variants = byModel[at].Variants.ToList();
            foreach (var v in m.Variants)
            {
                var i = variants.FindIndex(x => x.Name == v.Name);
                if (i < 0) variants.Add(v);
                else variants[i] = variants[i] with { Latency = [.. variants[i].Latency, .. v.Latency.Where(l => variants[i].Latency.All(x => x.Target != l.Target || x.Ep != l.Ep))] };
            }
            byModel[at] = byModel[at] with { Variants = variants };
        }
        return new ResultsFile(byModel);
    }
}

/// <summary>
/// The compression metrics of the model-compression literature for a variant against its baseline: compression rate
/// α = params_before / params_after, space saving rate β = (params_before − params_after) / params_after, and per target
/// speed-up δ = time_before / time_after (p50 latencies on the same target and EP).
/// </summary>
public static class CompressionMetrics
{
    public static double? Alpha(VariantResult baseline, VariantResult variant) => variant.Parameters > 0 ? baseline.Parameters / (double)variant.Parameters : null;

    public static double? Beta(VariantResult baseline, VariantResult variant) => variant.Parameters > 0 ? (baseline.Parameters - variant.Parameters) / (double)variant.Parameters : null;

    public static double? Delta(VariantResult baseline, VariantLatency latency) =>
        baseline.Latency.FirstOrDefault(l => l.Target == latency.Target && l.Ep == latency.Ep) is { } b && latency.P50Ms > 0 ? b.P50Ms / latency.P50Ms : null;

    /// <summary>Size ratio baseline / variant (on disk).</summary>
    public static double? SizeRatio(VariantResult baseline, VariantResult variant) => variant.SizeBytes > 0 ? baseline.SizeBytes / (double)variant.SizeBytes : null;
}
