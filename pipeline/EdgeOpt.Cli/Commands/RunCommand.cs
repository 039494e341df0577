using System.CommandLine;
using EdgeOpt.Passes.Core;
using EdgeOpt.Pipeline.Recipes;
using EdgeOpt.Pipeline.Reports;
using EdgeOpt.Targets;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary>
/// <c>edgeopt run --recipe r.yaml -o OUTDIR</c>: the whole flow of a recipe (passes per variant, verify against the original,
/// bench every variant on each target, results and reports), with a Pareto table; exit 4 when a variant misses the fidelity
/// target, after the report that shows why is written.
/// </summary>
public static class RunCommand
{
    public static Option<FileInfo> RecipeOption(bool required) => new("--recipe")
    {
        Description = "A recipe file (YAML or JSON): model, passes with options, data, fidelity target, targets, sweeps",
        Required = required,
    };

    /// <summary>Loads a recipe, turning a bad one into a usage error with its file:line message.</summary>
    public static Recipe Load(string path, PassCatalog catalog)
    {
        try
        {
            return Recipe.Load(path, catalog);
        }
        catch (RecipeException e)
        {
            throw new CliException(ExitCodes.Usage, e.Message);
        }
    }

    public static Command Create(PassCatalog catalog)
    {
        var recipe = RecipeOption(required: true);
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Folder for the variants, results.json, report.html and report.md", Required = true };
        var dirs = TargetsCommand.DirectoriesOption();
        var runtime = new RuntimeCliOptions();
        var command = new Command("run", "Run a recipe end to end: passes, verify, bench on each target, report (exit 4 when the fidelity target is missed)")
        {
            recipe, output, dirs,
        };
        runtime.AddTo(command);
        command.SetAction(parse => Cli.Guard(() =>
        {
            var r = Load(parse.GetValue(recipe)!.FullName, catalog);
            var outDir = parse.GetValue(output)!.FullName;
            ProgressTask? task = null;
            var run = LiveProgress.Run(ctx =>
            {
                if (ctx != null) task = ctx.AddTask("recipe");
                return Cli.Usage(() => TargetsCommand.Load(() => RecipeRunner.Run(r, outDir, catalog, runtime.Settings(parse, null),
                    (parse.GetValue(dirs) ?? []).Select(d => d.FullName).ToList(),
                    new CallbackProgress<RecipeProgress>(p =>
                    {
                        if (task == null) return;
                        task.MaxValue = p.Total + 1;
                        task.Value = p.Done;
                        task.Description = p.Step;
                    }))));
            });
            Print(run);
            if (run.FidelityMisses.Count > 0)
            {
                throw new CliException(ExitCodes.FidelityFailed, $"fidelity target {r.Fidelity} missed: {string.Join("; ", run.FidelityMisses)} (see {run.HtmlPath})");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Print(RecipeRun run)
    {
        var model = run.Results.Models[0];
        var baseline = model.Reference;
        var target = baseline.Latency.FirstOrDefault();
        var swept = run.Variants.Any(w => w.Label.Length > 0);
        var table = new Table().AddColumn("variant");
        if (swept) table.AddColumn("sweep");
        table.AddColumns("size", "MACs", $"p50 {(target == null ? "" : $"{target.Target}")}", "speed-up", "cosine", "Pareto");
        var points = model.Variants.Select(v => (v, P50: v.Latency.FirstOrDefault()?.P50Ms ?? double.NaN, Fid: v == baseline ? 1.0 : v.Cosine ?? 0)).ToList();
        foreach (var (v, p50, fid) in points)
        {
            // Pareto-optimal: no other variant is at least as small, as fast and as faithful, and better in one.
            var dominated = points.Any(o => o.v != v && o.v.SizeBytes <= v.SizeBytes && o.P50 <= p50 && o.Fid >= fid
                && (o.v.SizeBytes < v.SizeBytes || o.P50 < p50 || o.Fid > fid));
            var label = run.Variants.FirstOrDefault(w => w.Name == v.Name)?.Label ?? "";
            var cells = new List<string> { Markup.Escape(v.Name) };
            if (swept) cells.Add(Markup.Escape(label));
            cells.AddRange([Format.Bytes(v.SizeBytes), v.Macs is { } m ? Format.Metric(m) : "?",
                double.IsNaN(p50) ? "—" : $"{p50:F3} ms", v.Latency.FirstOrDefault() is { } l && CompressionMetrics.Delta(baseline, l) is { } d ? $"{d:F2}×" : "—",
                v == baseline ? "—" : v.Cosine?.ToString("F4") ?? "—", dominated ? "" : "[green]yes[/]"]);
            table.AddRow([.. cells]);
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"wrote {run.ResultsPath}, {run.HtmlPath}, {run.MarkdownPath}");
    }
}
