using System.CommandLine;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Passes.Core;
using EdgeOpt.Pipeline.Optimization;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>edgeopt optimize MODEL -o OUT</c>: cleanup (and, later, pruning, factorization, quantization).</summary>
public static class OptimizeCommand
{
    public static Command Create(PassCatalog catalog)
    {
        var model = new Argument<FileInfo>("model") { Description = "The .onnx model to optimize (never modified)" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Where to write the optimized model", Required = true };
        var passes = new Option<string[]>("--passes")
        {
            Description = "Passes to run, in order, by id (comma-separated or repeated); default: the cleanup sequence. See `edgeopt passes`",
        };
        var noCleanup = new Option<bool>("--no-cleanup") { Description = "Skip the default cleanup sequence" };
        var removeInitInputs = new Option<bool>("--remove-initializer-inputs")
        {
            Description = "Drop initializers from the graph inputs (old IR<=3 models); changes the model's interface",
        };
        var threshold = new Option<long?>("--external-data-threshold")
        {
            Description = "Write tensors of at least this many bytes to an external .data file beside the model",
        };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the report as JSON to this file" };
        var command = new Command("optimize", "Rewrite a model with optimization passes and write the result")
        {
            model, output, passes, noCleanup, removeInitInputs, threshold, json,
        };
        command.SetAction(parse => Cli.Guard(() =>
        {
            var ids = new List<string>();
            if (parse.GetValue(removeInitInputs)) ids.Add("remove-initializer-inputs");
            if (!parse.GetValue(noCleanup)) ids.AddRange(PassCatalog.CleanupSequence);
            ids.AddRange((parse.GetValue(passes) ?? []).SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
            var chosen = ids.Distinct().Select(id => Cli.Usage(() => catalog.Create(id))).ToList();
            var thresholdBytes = parse.GetValue(threshold);
            if (thresholdBytes is < 0) throw new CliException(ExitCodes.Usage, "--external-data-threshold must be zero or more bytes");
            var request = new OptimizeRequest(parse.GetValue(model)!.FullName, parse.GetValue(output)!.FullName, chosen,
                new WriteOptions { ExternalDataThreshold = thresholdBytes });
            var result = ModelOptimizer.Run(request);
            Print(result);
            if (parse.GetValue(json) is { } jsonFile) Json.WriteFile(jsonFile.FullName, ToJson(result));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Print(OptimizeResult result)
    {
        var table = new Table().AddColumns("pass", "changed", "skipped", "ms");
        foreach (var r in result.Reports)
        {
            table.AddRow(r.PassId, r.Changes.Count.ToString(), r.Skips.Count.ToString(), r.Elapsed.TotalMilliseconds.ToString("F1"));
        }
        AnsiConsole.Write(table);
        foreach (var r in result.Reports.Where(r => r.Skips.Count > 0))
        {
            foreach (var s in r.Skips.Take(10)) AnsiConsole.MarkupLineInterpolated($"[grey]{r.PassId} skipped {s.Target}: {s.Message}[/]");
        }
        var w = result.Written;
        var external = w.ExternalDataPath != null ? $", {w.ExternalTensors} tensors in {Path.GetFileName(w.ExternalDataPath)}" : "";
        AnsiConsole.MarkupLineInterpolated($"wrote [bold]{w.Path}[/]: {Format.Bytes(w.TotalBytes)} (input {Format.Bytes(result.InputBytes)}){external}");
        if (w.AutoExternalized) AnsiConsole.MarkupLine("[yellow]the model passes 2 GiB embedded: tensors of 1 KiB and more went to external data[/]");
    }

    private static object ToJson(OptimizeResult r) => new
    {
        input = r.InputPath,
        output = r.Written.Path,
        inputBytes = r.InputBytes,
        outputBytes = r.Written.TotalBytes,
        externalData = r.Written.ExternalDataPath,
        passes = r.Reports.Select(p => new
        {
            id = p.PassId,
            elapsedMs = Math.Round(p.Elapsed.TotalMilliseconds, 3),
            changed = p.Changes.Select(c => new { target = c.Target, message = c.Message }),
            skipped = p.Skips.Select(c => new { target = c.Target, reason = c.Message }),
        }),
    };
}
