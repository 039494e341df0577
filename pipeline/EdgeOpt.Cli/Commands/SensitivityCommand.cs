using System.CommandLine;
using System.Globalization;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Optimization;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary>
/// <c>edgeopt sensitivity MODEL --data DIR --method prune-channels|prune-magnitude</c>: each layer pruned alone at several
/// ratios, the fidelity drop measured in ONNX Runtime; with a target, the per-layer ratios that reach it.
/// </summary>
public static class SensitivityCommand
{
    public static Command Create(PassCatalog catalog)
    {
        var model = new Argument<FileInfo>("model") { Description = "The .onnx model to analyse (cleaned first, as optimize does; never modified)" };
        var data = new Option<DirectoryInfo>("--data") { Description = "Inputs to measure fidelity on (ONNX test-data layout or .npy files named after the inputs)", Required = true };
        var method = new Option<string>("--method") { Description = "prune-channels (ratio: channels removed) or prune-magnitude (ratio: sparsity)", DefaultValueFactory = _ => "prune-channels" };
        var ratios = new Option<string?>("--ratios") { Description = "Ratios to measure, comma-separated (default channels 0.1,0.2,0.3,0.5,0.7,0.85; magnitude 0.5,0.7,0.8,0.9,0.95)" };
        var samples = new Option<int?>("--samples") { Description = "Use at most N samples of --data" };
        var criterion = new Option<string>("--criterion") { Description = "channels: rank channels by l1 or l2 norm", DefaultValueFactory = _ => "l1" };
        var multiple = new Option<int>("--channel-multiple") { Description = "channels: keep a multiple of this many channels", DefaultValueFactory = _ => 1 };
        var targetMacs = new Option<double?>("--target-macs") { Description = "channels: also pick per-layer ratios so the model keeps at most this share of its MACs (e.g. 0.5)" };
        var targetSparsity = new Option<double?>("--target-sparsity") { Description = "magnitude: also pick per-layer sparsities reaching this overall sparsity (e.g. 0.8)" };
        var shapes = new Option<string[]>("--input-shape") { Description = "Shape of a dynamic input for MAC counts, NAME=DIMS (default: the first sample's)" };
        var json = new Option<FileInfo?>("--json") { Description = "Write the table (and the chosen ratios) as JSON" };
        var runtime = new RuntimeCliOptions();
        var command = new Command("sensitivity", "Measure how much each layer's pruning costs in fidelity, at several ratios, and pick per-layer ratios for a target")
        {
            model, data, method, ratios, samples, criterion, multiple, targetMacs, targetSparsity, shapes, json,
        };
        runtime.AddTo(command);
        command.SetAction(parse => Cli.Guard(() =>
        {
            var kind = (parse.GetValue(method) ?? "").Trim().ToLowerInvariant() switch
            {
                "prune-channels" or "channels" => PruneMethod.Channels,
                "prune-magnitude" or "magnitude" => PruneMethod.Magnitude,
                var other => throw new CliException(ExitCodes.Usage, $"--method '{other}' is not prune-channels or prune-magnitude"),
            };
            var target = kind == PruneMethod.Channels ? parse.GetValue(targetMacs) : parse.GetValue(targetSparsity);
            if (kind == PruneMethod.Channels && parse.GetValue(targetSparsity) != null) throw new CliException(ExitCodes.Usage, "--target-sparsity goes with --method prune-magnitude; for channels use --target-macs");
            if (kind == PruneMethod.Magnitude && parse.GetValue(targetMacs) != null) throw new CliException(ExitCodes.Usage, "--target-macs goes with --method prune-channels; for magnitude use --target-sparsity");
            if (target is not (null or (> 0 and < 1))) throw new CliException(ExitCodes.Usage, "the target is a share in (0, 1), e.g. --target-macs 0.5");
            var list = parse.GetValue(ratios) is { } text ? ParseRatios(text) : null;
            if (parse.GetValue(samples) is < 1) throw new CliException(ExitCodes.Usage, "--samples must be at least 1");

            var path = parse.GetValue(model)!.FullName;
            var ir = ModelReader.Read(path);
            new PassManager(PassCatalog.CleanupSequence.Select(id => catalog.Create(id))).Run(ir);
            var set = Cli.Usage(() => CalibrationSource.Open(parse.GetValue(data)!.FullName, ir).ToList());
            if (parse.GetValue(samples) is { } n && set.Count > n) set = [.. set.Take(n)];
            var channels = new PruneChannelsOptions
            {
                Criterion = (parse.GetValue(criterion) ?? "l1").Trim().ToLowerInvariant() switch
                {
                    "l1" => ChannelCriterion.L1,
                    "l2" => ChannelCriterion.L2,
                    var other => throw new CliException(ExitCodes.Usage, $"--criterion '{other}' is not l1 or l2"),
                },
                ChannelMultiple = parse.GetValue(multiple),
                InputShapes = InputShapes.Parse(parse.GetValue(shapes)),
            };
            if (channels.Validate().FirstOrDefault() is { } problem) throw new CliException(ExitCodes.Usage, problem);

            var table = Measure(ir, kind, set, runtime.Settings(parse, null), list, channels, null);
            (IReadOnlyDictionary<string, double> Ratios, double Saving)? chosen = target is { } t
                ? Cli.Usage(() => PruningSensitivity.Choose(table, kind == PruneMethod.Channels ? 1 - t : t))
                : null;
            Print(table, chosen);
            if (parse.GetValue(json) is { } file) Json.WriteFile(file.FullName, ToJson(path, table, chosen));
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Runs <see cref="PruningSensitivity.Measure"/> with a progress bar on a terminal; bad input becomes a usage error.</summary>
    internal static SensitivityTable Measure(Model model, PruneMethod method, IReadOnlyList<Sample> samples, RuntimeSettings settings,
        IReadOnlyList<double>? ratios, PruneChannelsOptions? channels, PruneMagnitudeOptions? magnitude) =>
        WithProgress("sensitivity", progress => PruningSensitivity.Measure(model, method, samples, settings, ratios, channels, magnitude, progress));

    /// <summary>Runs a per-layer analysis with a progress bar labelled <paramref name="label"/> on a terminal; bad input becomes a usage error.</summary>
    internal static T WithProgress<T>(string label, Func<IProgress<SensitivityProgress>, T> analysis)
    {
        ProgressTask? task = null;
        return LiveProgress.Run(ctx =>
        {
            if (ctx != null) task = ctx.AddTask(label);
            return Cli.Usage(() => analysis(new CallbackProgress<SensitivityProgress>(p =>
            {
                if (task == null) return;
                task.MaxValue = Math.Max(1, p.Total);
                task.Value = p.Done;
                task.Description = $"{label} {p.Layer}";
            })));
        });
    }

    internal static IReadOnlyList<double> ParseRatios(string text)
    {
        var values = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !(v > 0 && v < 1))
            {
                throw new CliException(ExitCodes.Usage, $"--ratios: '{part}' is not a number in (0, 1); e.g. --ratios 0.1,0.3,0.5");
            }
            values.Add(v);
        }
        return values.Count > 0 ? values : throw new CliException(ExitCodes.Usage, "--ratios is empty; e.g. --ratios 0.1,0.3,0.5");
    }

    private static void Print(SensitivityTable t, (IReadOnlyDictionary<string, double> Ratios, double Saving)? chosen)
    {
        var saved = t.Method == PruneMethod.Channels ? "MACs saved" : "weights zeroed";
        AnsiConsole.MarkupLineInterpolated($"{(t.Method == PruneMethod.Channels ? "prune-channels" : "prune-magnitude")} sensitivity on {t.Samples} samples, {t.Layers.Count} layers, {t.Seconds:F1} s; cell: cosine vs the unpruned model (share of {saved})");
        var table = new Table().AddColumn("layer").AddColumn("op");
        foreach (var r in t.Ratios) table.AddColumn(r.ToString("0.##", CultureInfo.InvariantCulture));
        if (chosen != null) table.AddColumn("chosen");
        foreach (var layer in t.Layers.Where(l => l.SkipReason == null))
        {
            var cells = new List<string> { Markup.Escape(layer.Node), layer.OpType };
            foreach (var r in t.Ratios)
            {
                var p = layer.Points.FirstOrDefault(p => p.Ratio == r);
                cells.Add(p == null ? "-" : $"{p.Cosine:F4} ({(p.Saved is { } s && t.Total is > 0 ? (s / (double)t.Total.Value).ToString("P1", CultureInfo.InvariantCulture) : "?")})");
            }
            if (chosen is { } c) cells.Add(c.Ratios.TryGetValue(layer.Node, out var cr) ? cr.ToString("0.##", CultureInfo.InvariantCulture) : "-");
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        var skipped = t.Layers.Count(l => l.SkipReason != null);
        if (skipped > 0) AnsiConsole.MarkupLineInterpolated($"[grey]{skipped} layers cannot be pruned alone (reasons in --json)[/]");
        if (chosen is { } ch)
        {
            AnsiConsole.MarkupLineInterpolated($"chosen: {ch.Ratios.Count} layers, predicted {ch.Saving:P1} of the {(t.Method == PruneMethod.Channels ? "MACs saved" : "prunable weights zeroed")}");
        }
    }

    private static object ToJson(string model, SensitivityTable t, (IReadOnlyDictionary<string, double> Ratios, double Saving)? chosen) => new
    {
        model,
        method = t.Method == PruneMethod.Channels ? "prune-channels" : "prune-magnitude",
        samples = t.Samples,
        total = t.Total,
        totalMeaning = t.Method == PruneMethod.Channels ? "macs" : "prunableWeights",
        ratios = t.Ratios,
        seconds = Math.Round(t.Seconds, 3),
        layers = t.Layers.Select(l => new
        {
            node = l.Node,
            op = l.OpType,
            skipped = l.SkipReason,
            points = l.Points.Select(p => new { ratio = p.Ratio, cosine = p.Cosine, saved = p.Saved }),
        }),
        chosen = chosen is { } c ? new { ratios = c.Ratios, predictedSaving = c.Saving } : null,
    };
}
