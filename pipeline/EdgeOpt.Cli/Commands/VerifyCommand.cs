using System.CommandLine;
using System.Globalization;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Fidelity;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>edgeopt verify REFERENCE CANDIDATE</c>: run both on the same inputs and compare every output.</summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var reference = new Argument<FileInfo>("reference") { Description = "The model to trust (usually the original)" };
        var candidate = new Argument<FileInfo>("candidate") { Description = "The model to check (usually the optimized one)" };
        var data = new Option<DirectoryInfo?>("--data") { Description = "Inputs in the ONNX test-data layout (test_data_set_k/input_i.pb, optional output_j.pb); default: seeded random" };
        var samples = new Option<int?>("--samples") { Description = "Use at most N samples of --data, or N random samples (default 10)" };
        var threshold = new Option<double?>("--threshold") { Description = "Also report agreement of (output > T) decisions, for scores and masks" };
        var minCosine = new Option<double?>("--min-cosine") { Description = "Exit 4 when an output's cosine similarity is below this" };
        var minTop1 = new Option<double?>("--min-top1") { Description = "Exit 4 when an output's top-1 agreement (0..1) is below this" };
        var shapes = new Option<string[]>("--input-shape") { Description = "Shape of a dynamic input for random samples, NAME=DIMS; repeat per input" };
        var batch = new Option<int?>("--batch") { Description = "Value for a dynamic leading (batch) dimension of random samples" };
        var ep = new Option<string?>("--ep") { Description = "Execution provider both models run on (default cpu)" };
        var json = new Option<FileInfo?>("--json") { Description = "Write the comparison (per output and a summary) as JSON" };
        var runtime = new RuntimeCliOptions();
        var command = new Command("verify", "Compare a candidate model's outputs with a reference model's on the same inputs")
        {
            reference, candidate, data, samples, threshold, minCosine, minTop1, shapes, batch, ep, json,
        };
        runtime.AddTo(command);
        command.SetAction(parse => Cli.Guard(() =>
        {
            var refPath = parse.GetValue(reference)!.FullName;
            var candPath = parse.GetValue(candidate)!.FullName;
            var limit = parse.GetValue(samples);
            if (limit is < 1) throw new CliException(ExitCodes.Usage, "--samples must be at least 1");
            if (parse.GetValue(minTop1) is < 0 or > 1) throw new CliException(ExitCodes.Usage, "--min-top1 is a fraction between 0 and 1");
            var settings = runtime.Settings(parse, parse.GetValue(ep));
            var ir = ModelReader.Read(refPath);
            ModelReader.Read(candPath);
            var dataDir = parse.GetValue(data)?.FullName;
            var set = Cli.Usage(() => BenchmarkInputs.Create(ir, dataDir, InputShapes.Parse(parse.GetValue(shapes)),
                parse.GetValue(batch), randomCount: limit ?? 10));
            if (limit is { } n && set.Count > n) set = [.. set.Take(n)];

            using var refRunner = OrtModelRunner.Open(refPath, settings);
            using var candRunner = OrtModelRunner.Open(candPath, settings);
            var bounds = new FidelityBounds(parse.GetValue(minCosine), parse.GetValue(minTop1));
            var report = Cli.Usage(() => Verifier.Compare(set, refRunner.Run, candRunner.Run, bounds, parse.GetValue(threshold)));
            Print(refPath, candPath, set.Count, dataDir, report);
            if (parse.GetValue(json) is { } file) Json.WriteFile(file.FullName, ToJson(refPath, candPath, dataDir, report));
            if (!report.Passed)
            {
                foreach (var v in report.Violations) Console.Error.WriteLine($"edgeopt: fidelity: {v}");
                return ExitCodes.FidelityFailed;
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Print(string refPath, string candPath, int samples, string? dataDir, VerifyReport report)
    {
        AnsiConsole.MarkupLineInterpolated($"[bold]{Path.GetFileName(candPath)}[/] vs [bold]{Path.GetFileName(refPath)}[/] on {samples} {(dataDir != null ? $"samples from {dataDir}" : "seeded random samples")}");
        var all = report.Outputs.SelectMany(o => o.VersusStored is { } st ? new[] { o.VersusReference, st } : [o.VersusReference]).ToList();
        var threshold = all.Any(m => m.ThresholdAgreement != null);
        var nonFinite = all.Any(m => m.NonFinite > 0);
        var table = new Table().AddColumns("output", "cosine", "SQNR dB", "max |err|", "rel L2", "top-1");
        if (threshold) table.AddColumn("> threshold");
        if (nonFinite) table.AddColumn("NaN/inf");
        foreach (var o in report.Outputs)
        {
            Row(table, o.VersusReference.Output, o.VersusReference, threshold, nonFinite);
            if (o.VersusStored is { } stored) Row(table, $"{stored.Output} vs stored", stored, threshold, nonFinite);
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(report.Passed ? "[green]within bounds[/]" : "[red]bounds missed[/]");
    }

    private static void Row(Table table, string label, OutputMetrics m, bool threshold, bool nonFinite)
    {
        var cells = new List<string>
        {
            Markup.Escape(label), F(m.Cosine, "F6"), F(m.SqnrDb, "F1"), F(m.MaxAbsError, "G3"), F(m.RelativeL2Error, "G3"),
            m.Top1Agreement is { } t ? t.ToString("P1", CultureInfo.InvariantCulture) : "-",
        };
        if (threshold) cells.Add(m.ThresholdAgreement is { } a ? a.ToString("P2", CultureInfo.InvariantCulture) : "-");
        if (nonFinite) cells.Add(m.NonFinite.ToString(CultureInfo.InvariantCulture));
        table.AddRow([.. cells]);
    }

    private static string F(double v, string format) => double.IsPositiveInfinity(v) ? "inf" : v.ToString(format, CultureInfo.InvariantCulture);

    internal static object ToJson(string refPath, string candPath, string? dataDir, VerifyReport r) => new
    {
        reference = refPath,
        candidate = candPath,
        data = dataDir,
        samples = r.Samples,
        passed = r.Passed,
        violations = r.Violations,
        summary = new { minCosine = r.MinCosine, minTop1 = r.MinTop1, maxAbsError = r.MaxAbsError },
        outputs = r.Outputs.Select(o => new { output = o.VersusReference.Output, versusReference = Metrics(o.VersusReference), versusStored = o.VersusStored is { } s ? Metrics(s) : null }),
    };

    private static object Metrics(OutputMetrics m) => new
    {
        elements = m.Elements,
        cosine = m.Cosine,
        sqnrDb = m.SqnrDb,
        maxAbsError = m.MaxAbsError,
        relativeL2Error = m.RelativeL2Error,
        top1Agreement = m.Top1Agreement,
        thresholdAgreement = m.ThresholdAgreement,
        nonFinite = m.NonFinite,
    };
}
