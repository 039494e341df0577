using System.CommandLine;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Data.Images;
using EdgeOpt.Pipeline.Optimization;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>optimize</c>: the pruning options, the target-driven per-layer ratios and the repair report.</summary>
public static partial class OptimizeCommand
{
    private sealed class PruneOptions
    {
        public Option<string?> Mode { get; } = new("--prune") { Description = "Pruning: magnitude (zero the smallest weights) or channels (remove whole output channels)" };
        public Option<double> Sparsity { get; } = new("--sparsity") { Description = "magnitude: share of weights zeroed per layer (or globally)", DefaultValueFactory = _ => 0.5 };
        public Option<double> Ratio { get; } = new("--channel-ratio") { Description = "channels: share of output channels removed per layer", DefaultValueFactory = _ => 0.3 };
        public Option<string> Granularity { get; } = new("--granularity") { Description = "magnitude: layer (each layer to --sparsity) or global (one threshold)", DefaultValueFactory = _ => "layer" };
        public Option<string?> Criterion { get; } = new("--criterion")
        {
            Description = "channels: rank channels by l1 or l2 weight norm, or activation (their share of the next layers' outputs on --calibration-data); " +
                "default: activation with --calibration-data, else l1",
        };
        public Option<int> ChannelMultiple { get; } = new("--channel-multiple") { Description = "channels: keep a multiple of this many channels", DefaultValueFactory = _ => 1 };
        public Option<bool> SparseStorage { get; } = new("--sparse-storage") { Description = "magnitude: store pruned weights as ONNX sparse initializers where that is smaller" };
        public Option<bool> NoRepair { get; } = new("--no-repair")
        {
            Description = "Do not refit the pruned layers by least squares on --calibration-data (with calibration data, repair is on by default)",
        };

        public Option<double?> TargetMacs { get; } = new("--target-macs")
        {
            Description = "--prune channels: keep at most this share of the model's MACs (e.g. 0.5); --factorize: of the factorizable layers' MACs; " +
                "per-layer ratios (ranks) chosen from a sensitivity analysis on --calibration-data",
        };
        public Option<double?> TargetSparsity { get; } = new("--target-sparsity")
        {
            Description = "magnitude: zero this share of the prunable weights (e.g. 0.8), per-layer sparsities chosen from a sensitivity analysis on --calibration-data",
        };
        public Option<int> SensitivitySamples { get; } = new("--sensitivity-samples") { Description = "With a target: samples the sensitivity analysis runs on", DefaultValueFactory = _ => 4 };

        public IEnumerable<Option> All => [Mode, Sparsity, Ratio, Granularity, Criterion, ChannelMultiple, SparseStorage, NoRepair, TargetMacs, TargetSparsity, SensitivitySamples];
    }

    /// <summary>
    /// The pruning pass for --target-macs/--target-sparsity: the model as the passes before pruning leave it, each layer pruned
    /// alone at several ratios on the calibration data (norm ranking, no repair: a quick proxy), and per-layer ratios chosen to
    /// reach the target with the least predicted fidelity loss; layers not chosen are left alone.
    /// </summary>
    /// <summary>
    /// What a target's per-layer analysis runs on: the model as <paramref name="before"/> (the passes ahead of the targeted one)
    /// leaves it, and at most <paramref name="count"/> calibration samples. <paramref name="what"/> starts the messages of the checks.
    /// </summary>
    private static (Model Model, List<Sample> Samples) SensitivityData(string modelPath, List<IPass> before, string? calibrationDir, ImagePreprocess? images,
        int count, string what)
    {
        if (calibrationDir == null) throw new CliException(ExitCodes.Usage, $"{what} by measuring fidelity: add --calibration-data DIR");
        if (count < 1) throw new CliException(ExitCodes.Usage, "--sensitivity-samples must be at least 1");
        var model = ModelReader.Read(modelPath);
        new PassManager(before).Run(model);
        return (model, Cli.Usage(() => CalibrationSource.Open(calibrationDir, model, images).Take(count).ToList()));
    }

    private static (IPass, (SensitivityTable, double, double)) Targeted(ParseResult parse, PruneOptions prune, IPass? pruning, List<IPass> before,
        string modelPath, string? calibrationDir, ImagePreprocess? images, RuntimeCliOptions runtime, PassCatalog catalog)
    {
        var macs = parse.GetValue(prune.TargetMacs);
        var sparsity = parse.GetValue(prune.TargetSparsity);
        switch (pruning)
        {
            case null: throw new CliException(ExitCodes.Usage, "--target-macs/--target-sparsity need --prune channels or --prune magnitude (--target-macs also goes with --factorize)");
            case PruneChannelsPass when sparsity != null: throw new CliException(ExitCodes.Usage, "--target-sparsity goes with --prune magnitude; for channels use --target-macs");
            case PruneMagnitudePass when macs != null: throw new CliException(ExitCodes.Usage, "--target-macs goes with --prune channels; for magnitude use --target-sparsity");
        }
        var target = macs ?? sparsity!.Value;
        if (!(target > 0 && target < 1)) throw new CliException(ExitCodes.Usage, "the target is a share in (0, 1), e.g. --target-macs 0.5");
        var (model, samples) = SensitivityData(modelPath, before, calibrationDir, images, parse.GetValue(prune.SensitivitySamples),
            "--target-macs/--target-sparsity choose per-layer ratios");
        var method = pruning is PruneChannelsPass ? PruneMethod.Channels : PruneMethod.Magnitude;
        var channels = pruning is PruneChannelsPass pc ? pc.Options with { RankByActivations = false, Repair = false } : null;
        if (channels is { InputShapes.Count: 0 } && samples.Count > 0)
        {
            // MACs (the target's unit) need concrete shapes: the calibration sample's, for the analysis and for the pass's report.
            channels = channels with { InputShapes = samples[0].InputShapes() };
        }
        var magnitude = pruning is PruneMagnitudePass pm ? pm.Options with { Repair = false, SparseStorage = false } : null;
        var table = SensitivityCommand.Measure(model, method, samples, runtime.Settings(parse, null), null, channels, magnitude);
        var wanted = method == PruneMethod.Channels ? 1 - target : target;
        var (ratios, predicted) = Cli.Usage(() => PruningSensitivity.Choose(table, wanted));
        if (channels != null)
        {
            // Savings are not additive: a layer's MACs fall with its own output channels and with its producer's. Prune a copy with
            // the chosen ratios, measure, and ask for the shortfall again (a few rounds).
            var ask = wanted;
            for (var round = 0; round < 4; round++)
            {
                var trial = new PruneChannelsPass(channels with { Ratio = 0, LayerRatios = ratios });
                trial.Run(ModelReader.Copy(model), PassContext.Default);
                if (trial.LastResult is not { MacsBefore: > 0 and var macsBefore, MacsAfter: { } macsAfter }) break;
                var actual = 1 - macsAfter / (double)macsBefore;
                if (actual >= wanted - 0.005 || ask >= 0.99) break;
                ask = Math.Min(0.99, ask + (wanted - actual));
                (ratios, predicted) = PruningSensitivity.Choose(table, ask);
            }
        }
        AnsiConsole.MarkupLineInterpolated($"sensitivity: {table.Layers.Count} layers × {table.Ratios.Count} ratios on {table.Samples} samples in {table.Seconds:F1} s; {ratios.Count} layers chosen, predicted {predicted:P1} {(method == PruneMethod.Channels ? "of the MACs saved" : "of the prunable weights zeroed")}");
        IPass pass = pruning switch
        {
            PruneChannelsPass p => catalog.Create(PruneChannelsPass.PassId, p.Options with { Ratio = 0, LayerRatios = ratios, InputShapes = channels!.InputShapes }),
            PruneMagnitudePass p => catalog.Create(PruneMagnitudePass.PassId, p.Options with { Sparsity = 0, LayerSparsity = ratios }),
            _ => throw new InvalidOperationException(),
        };
        return (pass, (table, target, predicted));
    }

    private static void PrintRepair(RepairSummary repair)
    {
        if (!repair.On)
        {
            AnsiConsole.MarkupLine("repair: off (pass --calibration-data DIR to refit the pruned layers; --no-repair turns it off)");
            return;
        }
        var refit = repair.Layers.Where(l => l.Applied).ToList();
        var before = refit.Count > 0 ? LatencyStats.Median(refit.Select(l => l.ErrorBefore ?? 0)).ToString("G3") : "-";
        var after = refit.Count > 0 ? LatencyStats.Median(refit.Select(l => l.ErrorAfter ?? 0)).ToString("G3") : "-";
        AnsiConsole.MarkupLineInterpolated($"repair: {refit.Count} of {repair.Layers.Count} layers refit{BiasOnlyNote(refit)} on {repair.Samples} samples in {repair.Seconds:F1} s; median output error {before} → {after}");
        foreach (var l in repair.Layers.Where(l => !l.Applied).Take(10)) AnsiConsole.MarkupLineInterpolated($"[grey]repair skipped {l.Node}: {l.SkipReason}[/]");
    }

    private static object Repair(RepairSummary r) => new
    {
        on = r.On,
        samples = r.Samples,
        seconds = Math.Round(r.Seconds, 3),
        layers = r.Layers.Select(l => new
        {
            node = l.Node,
            op = l.OpType,
            rows = l.Rows,
            errorBefore = l.ErrorBefore,
            errorAfter = l.ErrorAfter,
            refit = l.Applied,
            scope = ScopeName(l.Scope),
            detail = l.Detail,
            reason = l.SkipReason,
        }),
    };

    /// <summary>" (2 bias only: too few rows for the weights)" when some of <paramref name="refit"/> got only the mean-shift correction.</summary>
    private static string BiasOnlyNote(IReadOnlyList<LayerRepair> refit) =>
        refit.Count(l => l.Scope == RefitScope.BiasOnly) is var n and > 0 ? $" ({n} bias only: too few rows for the weights)" : "";

    /// <summary>The JSON name of a refit's scope: "full", "bias-only", or null when not refit.</summary>
    private static string? ScopeName(RefitScope? scope) => scope switch
    {
        RefitScope.Full => "full",
        RefitScope.BiasOnly => "bias-only",
        _ => null,
    };
}
