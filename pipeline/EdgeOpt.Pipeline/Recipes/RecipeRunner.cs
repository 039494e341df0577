using System.Text.Json;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Data.Images;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Optimization;
using EdgeOpt.Pipeline.Reports;
using EdgeOpt.Targets;

namespace EdgeOpt.Pipeline.Recipes;

/// <summary>A variant a run wrote: its name, file, sweep label, and the passes' reports.</summary>
public sealed record RunVariant(string Name, string Path, string Label, bool Final, IReadOnlyList<PassReport> Reports);

/// <summary>What <see cref="RecipeRunner.Run"/> produced: the variants, the results, the report files, and the variants that missed the fidelity target.</summary>
public sealed record RecipeRun(IReadOnlyList<RunVariant> Variants, ResultsFile Results, string ResultsPath, string HtmlPath, string MarkdownPath,
    IReadOnlyList<string> FidelityMisses);

/// <summary>Where a run is.</summary>
public readonly record struct RecipeProgress(string Step, int Done, int Total);

/// <summary>
/// Runs a recipe end to end: for each variant (one, or one per sweep combination) the passes in order on the original model,
/// writing the intermediates the recipe marks with <c>keep</c> and the result; then verify and bench the original and every
/// variant side by side on the evaluation data and the recipe's targets (<see cref="Comparison"/>); then results.json, report.html
/// and report.md in the output folder. Fidelity misses are returned (the caller decides the exit code) after the reports are written.
/// </summary>
public static class RecipeRunner
{
    /// <summary>Runs the passes of one variant (the recipe must have no sweep) and writes the model to <paramref name="output"/>.</summary>
    public static OptimizeResult Optimize(Recipe recipe, string output, PassCatalog catalog, RuntimeSettings settings)
    {
        if (recipe.Sweep.Count > 0) throw new ArgumentException($"{recipe.Source} sweeps {recipe.Sweep.Count} option(s): use `edgeopt run --recipe` to produce every variant");
        var passes = recipe.Steps.Where(s => s.Enabled).Select(s => catalog.Create(s.PassId, s.Options)).ToList();
        return ModelOptimizer.Run(new OptimizeRequest(recipe.Model, output, passes), Context(recipe, settings, Images(recipe)));
    }

    public static RecipeRun Run(Recipe recipe, string outDir, PassCatalog catalog, RuntimeSettings settings, IReadOnlyList<string> targetDirectories,
        IProgress<RecipeProgress>? progress = null)
    {
        var evalDir = recipe.EvalData ?? throw new ArgumentException($"{recipe.Source}: a run verifies on data: add data: {{ eval: DIR }} (or calibration)");
        Directory.CreateDirectory(outDir);
        var images = Images(recipe);
        var original = ModelReader.Read(recipe.Model);
        var samples = CalibrationSource.Open(evalDir, original, images).ToList();
        var library = settings.LoadLibrary();
        var int8Names = Int8Target.Known.Select(t => t.Name).ToList();
        var targets = recipe.Targets.Select(t => TargetProfiles.Find(t, int8Names, targetDirectories))
            .Select(p => new TimingTarget(p.Name, TargetSettings.For(p, library, settings)))
            .ToList();

        var combos = recipe.Variants();
        var written = new List<RunVariant>();
        for (var v = 0; v < combos.Count; v++)
        {
            var (label, steps) = combos[v];
            var name = combos.Count == 1 ? "optimized" : $"v{v + 1}";
            progress?.Report(new RecipeProgress($"{name}: passes", v, combos.Count));
            var model = ModelReader.Copy(original);
            var context = Context(recipe, settings, images);
            var reports = new List<PassReport>();
            foreach (var step in steps.Where(s => s.Enabled))
            {
                reports.Add(catalog.Create(step.PassId, step.Options).Run(model, context));
                if (!step.Keep) continue;
                var path = Path.Combine(outDir, $"{name}.{step.PassId}.onnx");
                ModelWriter.Write(model, path);
                written.Add(new RunVariant($"{name}.{step.PassId}", path, label, false, [.. reports]));
            }
            var final = Path.Combine(outDir, $"{name}.onnx");
            ModelWriter.Write(model, final);
            written.Add(new RunVariant(name, final, label, true, reports));
            File.WriteAllText(Path.Combine(outDir, $"{name}.passes.json"), JsonSerializer.Serialize(reports.Select(r => new
            {
                id = r.PassId,
                changed = r.Changes.Select(c => new { target = c.Target, message = c.Message }),
                skipped = r.Skips.Select(c => new { target = c.Target, reason = c.Message }),
            }), ResultsFile.JsonOptions));
        }

        progress?.Report(new RecipeProgress("verify and bench", combos.Count, combos.Count + 1));
        var results = Comparison.Run(Path.GetFileNameWithoutExtension(recipe.Model), [("original", recipe.Model), .. written.Select(w => (w.Name, w.Path))],
            samples, settings, targets, new BenchmarkOptions(recipe.Bench.Warmup, recipe.Bench.Runs, ProfileNodes: false), recipe.Bench.Rounds);
        var file = new ResultsFile([results]);
        var resultsPath = Path.Combine(outDir, "results.json");
        var html = Path.Combine(outDir, "report.html");
        var md = Path.Combine(outDir, "report.md");
        file.Write(resultsPath);
        ReportWriter.Write(file, html);
        ReportWriter.Write(file, md);

        var misses = new List<string>();
        if (recipe.Fidelity is { } target)
        {
            foreach (var v in results.Variants.Where(v => written.Any(w => w.Final && w.Name == v.Name)))
            {
                var value = target.Metric == AccuracyMetric.Cosine ? v.Cosine : v.Top1;
                if (!(value >= target.Value)) misses.Add($"{v.Name}: {(target.Metric == AccuracyMetric.Cosine ? "cosine" : "top-1")} {value?.ToString("F4") ?? "n/a"} < {target.Value}");
            }
        }
        return new RecipeRun(written, file, resultsPath, html, md, misses);
    }

    private static ImagePreprocess? Images(Recipe recipe) => recipe.ImagePreprocess is { } spec ? ImagePreprocess.Parse(spec) : null;

    /// <summary>Calibration and activations from the recipe's calibration data (what quantize-static and pruning repair ask for).</summary>
    private static PassContext Context(Recipe recipe, RuntimeSettings settings, ImagePreprocess? images)
    {
        if (recipe.CalibrationData is not { } dir) return new PassContext();
        IEnumerable<Sample> Open(Model m) => CalibrationSource.Open(dir, m, images);
        return new PassContext
        {
            Calibration = new OrtCalibrationProvider(Open, new CalibrationOptions { Method = CalibrationMethod.Percentile, Settings = settings }),
            Activations = new OrtActivationProvider(Open, settings),
        };
    }
}
