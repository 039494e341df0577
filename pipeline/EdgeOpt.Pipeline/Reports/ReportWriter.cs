using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using CsvHelper;

namespace EdgeOpt.Pipeline.Reports;

/// <summary>The report formats, chosen by the output file's extension.</summary>
public enum ReportFormat
{
    Markdown,
    Html,
    Csv,
    Json,
}

/// <summary>
/// Writes a results file as a report: one table per model (variants × targets with size, parameters, MACs, latency p50/p90/p99,
/// throughput, fidelity, compression rate α, space saving β, speed-up δ), in Markdown, CSV (one row per variant and target),
/// JSON (the results with the metrics computed) or a self-contained HTML page whose charts are inline SVG (no script, no
/// network): latency bars with p50–p99 whiskers per variant and target, fidelity vs size and fidelity vs latency with the
/// Pareto front, and per-layer MACs before/after. Every chart mark carries a class (bar, whisker, point, pareto, macs-before,
/// macs-after) so tools can count them.
/// </summary>
public static class ReportWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] Palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    /// <summary>The format a path's extension names.</summary>
    /// <exception cref="ArgumentException">An extension other than .md, .html/.htm, .csv, .json.</exception>
    public static ReportFormat FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".md" or ".markdown" => ReportFormat.Markdown,
        ".html" or ".htm" => ReportFormat.Html,
        ".csv" => ReportFormat.Csv,
        ".json" => ReportFormat.Json,
        var other => throw new ArgumentException($"'{path}': unknown report format '{other}'; use .html, .md, .csv or .json"),
    };

    /// <summary>Writes the report to <paramref name="path"/> atomically, in the format its extension names.</summary>
    public static void Write(ResultsFile results, string path)
    {
        var text = FormatOf(path) switch
        {
            ReportFormat.Markdown => Markdown(results),
            ReportFormat.Html => Html(results),
            ReportFormat.Csv => Csv(results),
            _ => Json(results),
        };
        var temp = path + ".tmp";
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>One row of the tables: a variant on one target (or on none, when it was not timed).</summary>
    public sealed record Row(string Model, VariantResult Variant, VariantLatency? Latency, double? Alpha, double? Beta, double? Delta, double? SizeRatio);

    /// <summary>The rows of every table, in order.</summary>
    public static IEnumerable<Row> Rows(ModelResults model)
    {
        var baseline = model.Reference;
        foreach (var v in model.Variants)
        {
            var alpha = CompressionMetrics.Alpha(baseline, v);
            var beta = CompressionMetrics.Beta(baseline, v);
            var size = CompressionMetrics.SizeRatio(baseline, v);
            if (v.Latency.Count == 0) yield return new Row(model.Model, v, null, alpha, beta, null, size);
            foreach (var l in v.Latency) yield return new Row(model.Model, v, l, alpha, beta, CompressionMetrics.Delta(baseline, l), size);
        }
    }

    public static string Markdown(ResultsFile results)
    {
        var sb = new StringBuilder("# EdgeOpt report\n");
        foreach (var m in results.Models)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n## {m.Model}\n\nBaseline: {m.Reference.Name}. α = params before / after, β = (before − after) / after, δ = p50 before / after on the same target.\n\n");
            sb.Append("| variant | target | EP | size | params | MACs | p50 ms | p90 ms | p99 ms | throughput/s | cosine | top-1 | α | β | δ |\n");
            sb.Append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            foreach (var r in Rows(m))
            {
                var v = r.Variant;
                var l = r.Latency;
                sb.Append(CultureInfo.InvariantCulture, $"| {v.Name} | {l?.Target ?? "—"} | {l?.Ep ?? "—"} | {Bytes(v.SizeBytes)} | {Metric(v.Parameters)} | {(v.Macs is { } mac ? Metric(mac) : "?")} | ");
                sb.Append(CultureInfo.InvariantCulture, $"{F(l?.P50Ms, "F3")} | {F(l?.P90Ms, "F3")} | {F(l?.P99Ms, "F3")} | {F(l?.ThroughputPerSec, "F1")} | {F(v.Cosine, "F4")} | {(v.Top1 is { } t ? t.ToString("P1", Inv) : "—")} | ");
                sb.Append(CultureInfo.InvariantCulture, $"{F(r.Alpha, "F2")} | {F(r.Beta, "F2")} | {F(r.Delta, "F2")}{(r.Delta != null ? "×" : "")} |\n");
            }
        }
        return sb.ToString();
    }

    public static string Csv(ResultsFile results)
    {
        using var writer = new StringWriter(Inv);
        using var csv = CsvWriter.Create(writer, new CsvWriterOptions(), true);
        foreach (var h in new[] { "model", "variant", "target", "ep", "threads", "size_bytes", "parameters", "macs", "p50_ms", "p90_ms", "p99_ms", "throughput_per_s", "cosine", "top1", "alpha", "beta", "delta", "size_ratio" })
        {
            csv.WriteField(h);
        }
        csv.EndRecord();
        foreach (var r in results.Models.SelectMany(Rows))
        {
            var l = r.Latency;
            object?[] fields = [r.Model, r.Variant.Name, l?.Target, l?.Ep, l?.Threads, r.Variant.SizeBytes, r.Variant.Parameters, r.Variant.Macs, l?.P50Ms, l?.P90Ms, l?.P99Ms,
                l?.ThroughputPerSec, r.Variant.Cosine, r.Variant.Top1, r.Alpha, r.Beta, r.Delta, r.SizeRatio];
            foreach (var f in fields) csv.WriteField(f switch { null => "", double d => d.ToString("R", Inv), IFormattable x => x.ToString(null, Inv), _ => f.ToString() ?? "" });
            csv.EndRecord();
        }
        csv.Flush();
        return writer.ToString();
    }

    public static string Json(ResultsFile results) => JsonSerializer.Serialize(new
    {
        format = results.Format,
        models = results.Models.Select(m => new
        {
            model = m.Model,
            baseline = m.Reference.Name,
            variants = m.Variants,
            rows = Rows(m).Select(r => new
            {
                variant = r.Variant.Name,
                target = r.Latency?.Target,
                ep = r.Latency?.Ep,
                p50Ms = r.Latency?.P50Ms,
                alpha = r.Alpha,
                beta = r.Beta,
                delta = r.Delta,
                sizeRatio = r.SizeRatio,
            }),
        }),
    }, ResultsFile.JsonOptions);

    public static string Html(ResultsFile results)
    {
        var sb = new StringBuilder();
        sb.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>EdgeOpt report</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
            table{border-collapse:collapse;margin:8px 0 16px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
            th:first-child,td:first-child,td:nth-child(2),td:nth-child(3){text-align:left}th{background:#f3f3f3}
            .charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}
            svg text{font:11px system-ui,sans-serif;fill:#333}.axis{stroke:#888}.whisker{stroke:#222;stroke-width:1.5}
            .pareto{fill:none;stroke:#999;stroke-dasharray:4 3}
            </style></head><body>
            <h1>EdgeOpt report</h1>
            <p>α = params before / after (compression rate), β = (before − after) / after (space saving rate), δ = p50 before / after on the same target (speed-up).</p>

            """);
        foreach (var m in results.Models)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<section class=\"model\"><h2>{E(m.Model)}</h2><p>Baseline: {E(m.Reference.Name)}.</p>\n");
            sb.Append("<table><tr><th>variant</th><th>target</th><th>EP</th><th>size</th><th>params</th><th>MACs</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>throughput/s</th><th>cosine</th><th>top-1</th><th>α</th><th>β</th><th>δ</th></tr>\n");
            foreach (var r in Rows(m))
            {
                var v = r.Variant;
                var l = r.Latency;
                sb.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(v.Name)}</td><td>{E(l?.Target ?? "—")}</td><td>{E(l?.Ep ?? "—")}</td><td>{Bytes(v.SizeBytes)}</td><td>{Metric(v.Parameters)}</td>");
                sb.Append(CultureInfo.InvariantCulture, $"<td>{(v.Macs is { } mac ? Metric(mac) : "?")}</td><td>{F(l?.P50Ms, "F3")}</td><td>{F(l?.P90Ms, "F3")}</td><td>{F(l?.P99Ms, "F3")}</td><td>{F(l?.ThroughputPerSec, "F1")}</td>");
                sb.Append(CultureInfo.InvariantCulture, $"<td>{F(v.Cosine, "F4")}</td><td>{(v.Top1 is { } t ? t.ToString("P1", Inv) : "—")}</td><td>{F(r.Alpha, "F2")}</td><td>{F(r.Beta, "F2")}</td><td>{F(r.Delta, "F2")}</td></tr>\n");
            }
            sb.Append("</table>\n<div class=\"charts\">\n");
            sb.Append(LatencyChart(m)).Append(ScatterChart(m, "Fidelity vs size", "size (MiB)", v => v.SizeBytes / 1048576.0, "fidelity-size"));
            sb.Append(ScatterChart(m, "Fidelity vs latency", $"p50 (ms) on {E(FirstTarget(m) ?? "—")}", v => FirstLatency(m, v), "fidelity-latency"));
            sb.Append(LayerChart(m)).Append("</div></section>\n");
        }
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static string? FirstTarget(ModelResults m) => m.Variants.SelectMany(v => v.Latency).Select(l => $"{l.Target} ({l.Ep})").FirstOrDefault();

    private static double? FirstLatency(ModelResults m, VariantResult v)
    {
        var first = m.Variants.SelectMany(x => x.Latency).FirstOrDefault();
        return first == null ? null : v.Latency.FirstOrDefault(l => l.Target == first.Target && l.Ep == first.Ep)?.P50Ms;
    }

    /// <summary>Grouped bars: one group per target/EP, one bar per variant (p50), a whisker from p50 to p99.</summary>
    private static string LatencyChart(ModelResults m)
    {
        var groups = m.Variants.SelectMany(v => v.Latency).Select(l => (l.Target, l.Ep)).Distinct().ToList();
        if (groups.Count == 0) return "";
        var all = m.Variants.SelectMany(v => v.Latency).ToList();
        // Scale to the p99s unless a few slow outliers would flatten the bars: then to 4 × the largest p50, whiskers clipped at the top.
        var max = Math.Min(all.Max(l => Math.Max(l.P99Ms, l.P50Ms)), 4 * all.Max(l => l.P50Ms));
        const int h = 260, top = 20, bottom = 60, left = 50;
        const int barW = 26;
        var groupW = m.Variants.Count * barW + 30;
        var w = Math.Max(360, left + groups.Count * groupW + 20);
        var sb = Svg("Latency per variant and target (bar: p50, whisker: p50–p99)", "latency", w, h);
        Axes(sb, left, top, w - 10, h - bottom, $"{max:G3} ms");
        for (var g = 0; g < groups.Count; g++)
        {
            var x0 = left + 12 + g * groupW;
            for (var i = 0; i < m.Variants.Count; i++)
            {
                var l = m.Variants[i].Latency.FirstOrDefault(x => x.Target == groups[g].Target && x.Ep == groups[g].Ep);
                if (l == null) continue;
                double Y(double ms) => h - bottom - (h - bottom - top) * (Math.Min(ms, max) / max);
                var x = x0 + i * barW;
                sb.Append(Inv, $"<rect class=\"bar\" x=\"{x}\" y=\"{Y(l.P50Ms):F1}\" width=\"{barW - 3}\" height=\"{h - bottom - Y(l.P50Ms):F1}\" fill=\"{Palette[i % Palette.Length]}\"><title>{E(m.Variants[i].Name)} on {E(l.Target)} ({E(l.Ep)}): p50 {l.P50Ms:F3} ms, p99 {l.P99Ms:F3} ms</title></rect>");
                sb.Append(Inv, $"<line class=\"whisker\" x1=\"{x + (barW - 3) / 2.0:F1}\" x2=\"{x + (barW - 3) / 2.0:F1}\" y1=\"{Y(l.P50Ms):F1}\" y2=\"{Y(l.P99Ms):F1}\"/>");
            }
            sb.Append(Inv, $"<text x=\"{x0}\" y=\"{h - bottom + 14}\">{E(Short(groups[g].Target, 14))}</text><text x=\"{x0}\" y=\"{h - bottom + 27}\">{E(Short(groups[g].Ep, 14))}</text>");
        }
        Legend(sb, m, left, h - 18);
        return sb.Append("</svg></figure>\n").ToString();
    }

    /// <summary>One point per variant (fidelity: cosine, the baseline at 1), with the Pareto front (smaller x, higher fidelity).</summary>
    private static string ScatterChart(ModelResults m, string title, string xLabel, Func<VariantResult, double?> x, string cssClass)
    {
        var points = m.Variants.Select((v, i) => (v, i, X: x(v), Y: v == m.Reference ? 1.0 : v.Cosine)).Where(p => p.X is > 0 && p.Y != null).ToList();
        if (points.Count == 0) return "";
        const int w = 360, h = 260, left = 50, top = 20, bottom = 50;
        var xMax = points.Max(p => p.X!.Value) * 1.1;
        var yMin = Math.Min(points.Min(p => p.Y!.Value), 0.99);
        var yMax = 1.0 + (1.0 - yMin) * 0.05;
        double Px(double v) => left + (w - left - 15) * (v / xMax);
        double Py(double v) => h - bottom - (h - bottom - top) * ((v - yMin) / (yMax - yMin));
        var sb = Svg(title, cssClass, w, h);
        Axes(sb, left, top, w - 10, h - bottom, $"cosine {yMin:F3}–1");
        sb.Append(Inv, $"<text x=\"{left}\" y=\"{h - bottom + 16}\">{xLabel}, up to {xMax:G3}</text>");
        var front = points.OrderBy(p => p.X).ThenByDescending(p => p.Y).Aggregate(new List<(VariantResult v, int i, double? X, double? Y)>(), (acc, p) =>
        {
            if (acc.Count == 0 || p.Y > acc[^1].Y) acc.Add(p);
            return acc;
        });
        if (front.Count > 1) sb.Append(Inv, $"<polyline class=\"pareto\" points=\"{string.Join(" ", front.Select(p => $"{Px(p.X!.Value):F1},{Py(p.Y!.Value):F1}"))}\"/>");
        foreach (var p in points)
        {
            sb.Append(Inv, $"<circle class=\"point\" cx=\"{Px(p.X!.Value):F1}\" cy=\"{Py(p.Y!.Value):F1}\" r=\"5\" fill=\"{Palette[p.i % Palette.Length]}\"><title>{E(p.v.Name)}: {p.X:G4}, cosine {p.Y:F4}</title></circle>");
        }
        Legend(sb, m, left, h - 14);
        return sb.Append("</svg></figure>\n").ToString();
    }

    /// <summary>Per-layer MACs of the last variant that lists layers: a pair of bars per layer (the 30 largest).</summary>
    private static string LayerChart(ModelResults m)
    {
        // The variant that changed the most MACs layer by layer (a pruned or factorized one; int8 keeps MACs).
        var variant = m.Variants.Where(v => v.Layers.Count > 0)
            .OrderByDescending(v => v.Layers.Sum(l => Math.Abs((l.Before ?? 0) - (l.After ?? 0))))
            .FirstOrDefault();
        if (variant == null) return "";
        var layers = variant.Layers.OrderByDescending(l => l.Before ?? 0).Take(30).ToList();
        var max = Math.Max(1, layers.Max(l => Math.Max(l.Before ?? 0, l.After ?? 0)));
        const int left = 150, rowH = 14, top = 20;
        var h = top + layers.Count * rowH + 30;
        const int w = 520;
        var sb = Svg($"Per-layer MACs: {E(m.Reference.Name)} vs {E(variant.Name)} (largest {layers.Count})", "layer-macs", w, h);
        for (var i = 0; i < layers.Count; i++)
        {
            var y = top + i * rowH;
            var l = layers[i];
            sb.Append(Inv, $"<text x=\"{left - 6}\" y=\"{y + 10}\" text-anchor=\"end\">{E(Short(l.Node, 22))}</text>");
            sb.Append(Inv, $"<rect class=\"macs-before\" x=\"{left}\" y=\"{y}\" width=\"{(w - left - 20) * ((l.Before ?? 0) / (double)max):F1}\" height=\"6\" fill=\"#bab0ac\"><title>{E(l.Node)} ({E(l.OpType)}): {Metric(l.Before ?? 0)} MACs before</title></rect>");
            sb.Append(Inv, $"<rect class=\"macs-after\" x=\"{left}\" y=\"{y + 6}\" width=\"{(w - left - 20) * ((l.After ?? 0) / (double)max):F1}\" height=\"6\" fill=\"#4e79a7\"><title>{E(l.Node)}: {Metric(l.After ?? 0)} MACs after</title></rect>");
        }
        sb.Append(Inv, $"<text x=\"{left}\" y=\"{h - 8}\">grey: before, blue: after; full width = {Metric(max)} MACs</text>");
        return sb.Append("</svg></figure>\n").ToString();
    }

    private static StringBuilder Svg(string title, string cssClass, int w, int h) =>
        new StringBuilder().Append(Inv, $"<figure><figcaption>{title}</figcaption><svg class=\"chart {cssClass}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">");

    private static void Axes(StringBuilder sb, int left, int top, int right, int bottom, string yLabel)
    {
        sb.Append(Inv, $"<line class=\"axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{bottom}\"/><line class=\"axis\" x1=\"{left}\" y1=\"{bottom}\" x2=\"{right}\" y2=\"{bottom}\"/>");
        sb.Append(Inv, $"<text x=\"4\" y=\"{top + 4}\">{E(yLabel)}</text>");
    }

    private static void Legend(StringBuilder sb, ModelResults m, int left, int y)
    {
        var x = left;
        for (var i = 0; i < m.Variants.Count; i++)
        {
            sb.Append(Inv, $"<rect x=\"{x}\" y=\"{y - 9}\" width=\"10\" height=\"10\" fill=\"{Palette[i % Palette.Length]}\"/><text x=\"{x + 13}\" y=\"{y}\">{E(Short(m.Variants[i].Name, 16))}</text>");
            x += 20 + 7 * Math.Min(16, m.Variants[i].Name.Length);
        }
    }

    private static string Short(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private static string F(double? v, string format) => v is { } d && double.IsFinite(d) ? d.ToString(format, Inv) : "—";

    private static string Bytes(long b) => b >= 1 << 20 ? $"{b / 1048576.0:F2} MiB" : b >= 1024 ? $"{b / 1024.0:F1} KiB" : $"{b} B";

    private static string Metric(long v) => v switch
    {
        >= 1_000_000_000 => (v / 1e9).ToString("F2", Inv) + " G",
        >= 1_000_000 => (v / 1e6).ToString("F2", Inv) + " M",
        >= 1_000 => (v / 1e3).ToString("F1", Inv) + " k",
        _ => v.ToString(Inv),
    };
}
