using System.CommandLine;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Reports;
using EdgeOpt.Targets;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary>
/// <c>edgeopt compare BASELINE VARIANT… --data DIR [--target T…] -o results.json</c> measures variants side by side;
/// <c>edgeopt report RESULTS… -o report.html|md|csv|json</c> turns results into tables and charts.
/// </summary>
public static class ReportCommands
{
    public static Command Compare()
    {
        var models = new Argument<FileInfo[]>("models") { Description = "The baseline model, then its variants", Arity = ArgumentArity.OneOrMore };
        var names = new Option<string?>("--names") { Description = "Variant names, comma-separated, in order (default: the file names)" };
        var modelName = new Option<string?>("--model-name") { Description = "The model's name in the report (default: the baseline's file name)" };
        var data = new Option<DirectoryInfo>("--data") { Description = "Inputs for fidelity and timing (ONNX test-data layout or .npy named after the inputs)", Required = true };
        var samples = new Option<int?>("--samples") { Description = "Use at most N samples for fidelity" };
        var targets = new Option<string[]>("--target") { Description = "Time on these target profiles (repeat; default x64-cpu); providers the library lacks are errors unless optional" };
        var dirs = TargetsCommand.DirectoriesOption();
        var runs = new Option<int>("--runs") { Description = "Timed runs per variant, target and round", DefaultValueFactory = _ => 50 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs before timing", DefaultValueFactory = _ => 5 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds alternating the variants (the median round's figures are kept)", DefaultValueFactory = _ => 3 };
        var output = new Option<FileInfo>("--output", "-o") { Description = "The results file to write (JSON; merge several with edgeopt report)", Required = true };
        var runtime = new RuntimeCliOptions();
        var command = new Command("compare", "Measure a model and its variants side by side: size, params, MACs, fidelity, latency per target")
        {
            models, names, modelName, data, samples, targets, dirs, runs, warmup, rounds, output,
        };
        runtime.AddTo(command);
        command.SetAction(parse => Cli.Guard(() =>
        {
            var files = parse.GetValue(models)!;
            var labels = parse.GetValue(names) is { } n ? n.Split(',', StringSplitOptions.TrimEntries) : files.Select(f => Path.GetFileNameWithoutExtension(f.Name)).ToArray();
            if (labels.Length != files.Length) throw new CliException(ExitCodes.Usage, $"--names lists {labels.Length} names for {files.Length} models");
            if (labels.Distinct().Count() != labels.Length) throw new CliException(ExitCodes.Usage, "variant names must differ: pass --names");
            var timing = new BenchmarkOptions(parse.GetValue(warmup), parse.GetValue(runs), ProfileNodes: false);
            if (timing.Validate().FirstOrDefault() is { } problem) throw new CliException(ExitCodes.Usage, problem);
            if (parse.GetValue(rounds) < 1) throw new CliException(ExitCodes.Usage, "--rounds must be at least 1");

            var given = runtime.Settings(parse, null);
            var library = given.LoadLibrary();
            var extra = (parse.GetValue(dirs) ?? []).Select(d => d.FullName).ToList();
            var timingTargets = (parse.GetValue(targets) is { Length: > 0 } t ? t : ["x64-cpu"])
                .Select(name => TargetsCommand.Load(() => TargetProfiles.Find(name, TargetsCommand.Int8Targets, extra)))
                .Select(p => new TimingTarget(p.Name, TargetSettings.For(p, library, given, Console.Error.WriteLine)))
                .ToList();
            var baseline = Onnx.IO.ModelReader.Read(files[0].FullName);
            var set = Cli.Usage(() => CalibrationSource.Open(parse.GetValue(data)!.FullName, baseline).ToList());
            if (parse.GetValue(samples) is { } cap && set.Count > cap) set = [.. set.Take(cap)];

            ProgressTask? task = null;
            var results = LiveProgress.Run(ctx =>
            {
                if (ctx != null) task = ctx.AddTask("comparing");
                return Cli.Usage(() => Comparison.Run(parse.GetValue(modelName) ?? Path.GetFileNameWithoutExtension(files[0].Name),
                    [.. labels.Zip(files, (l, f) => (l, f.FullName))], set, given, timingTargets, timing, parse.GetValue(rounds),
                    new CallbackProgress<ComparisonProgress>(p =>
                    {
                        if (task == null) return;
                        task.MaxValue = p.Total;
                        task.Value = p.Done;
                        task.Description = $"{p.Variant}: {p.Step}";
                    })));
            });
            var file = new ResultsFile([results]);
            file.Write(parse.GetValue(output)!.FullName);
            AnsiConsole.Write(new Markup(Markup.Escape(ReportWriter.Markdown(file))));
            AnsiConsole.MarkupLineInterpolated($"wrote {parse.GetValue(output)!.FullName}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command Report()
    {
        var results = new Argument<FileInfo[]>("results") { Description = "Results files (edgeopt compare/run -o results.json)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<FileInfo[]>("--output", "-o")
        {
            Description = "Report files to write; the extension picks the format: .html (tables and charts), .md, .csv, .json (repeat for several)",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("report", "Turn results into a report: tables per model with compression metrics, and charts in HTML") { results, output };
        command.SetAction(parse => Cli.Guard(() =>
        {
            var outputs = parse.GetValue(output)!;
            foreach (var o in outputs) Cli.Usage(() => ReportWriter.FormatOf(o.Name));
            var merged = ResultsFile.Merge(parse.GetValue(results)!.Select(f => Cli.Usage(() => ResultsFile.Read(f.FullName))));
            foreach (var o in outputs)
            {
                ReportWriter.Write(merged, o.FullName);
                AnsiConsole.MarkupLineInterpolated($"wrote {o.FullName} ({merged.Models.Count} model{(merged.Models.Count == 1 ? "" : "s")}, {merged.Models.Sum(m => m.Variants.Count)} variants)");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}
