using System.CommandLine;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Pipeline.Data.Images;
using EdgeOpt.Pipeline.Optimization;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>optimize</c>: the low-rank factorization options and their report.</summary>
public static partial class OptimizeCommand
{
    private sealed class FactorizationOptions
    {
        public Option<string?> Mode { get; } = new("--factorize")
        {
            Description = "Low-rank factorization: svd (Gemm/MatMul/1×1 Conv), or tucker2, spatial-svd, depthwise-separable, cp for k×k Conv (plus svd for Gemm/MatMul in --ops)",
        };
        public Option<double?> Energy { get; } = new("--energy") { Description = "factorize: share of each weight's energy ‖W‖²_F kept (default 0.9)" };
        public Option<double?> RankRatio { get; } = new("--rank-ratio") { Description = "factorize: rank = ⌈ratio · full rank⌉ instead of --energy" };
        public Option<int> RankMultiple { get; } = new("--rank-multiple") { Description = "factorize: round ranks up to a multiple of this", DefaultValueFactory = _ => 8 };
        public Option<string[]> Ops { get; } = new("--ops") { Description = "factorize: op types to factorize, of Gemm, MatMul, Conv (comma-separated; default all three)" };
        public Option<bool> NoRefit { get; } = new("--no-refit")
        {
            Description = "factorize: do not refit each layer's last factor by least squares on --calibration-data (with calibration data, refit is on by default)",
        };

        public IEnumerable<Option> All => [Mode, Energy, RankRatio, RankMultiple, Ops, NoRefit];

        /// <summary>The factorization passes asked for (none without --factorize), in the order they run.</summary>
        public List<IPass> Create(ParseResult parse, PassCatalog catalog, IReadOnlyDictionary<string, long[]> inputShapes)
        {
            var mode = parse.GetValue(Mode)?.Trim().ToLowerInvariant();
            if (mode == null) return [];
            ConvFactorization? method = mode switch
            {
                "svd" => null,
                "tucker2" or "tucker-2" => ConvFactorization.Tucker2,
                "spatial-svd" => ConvFactorization.SpatialSvd,
                "depthwise-separable" => ConvFactorization.DepthwiseSeparable,
                "cp" => ConvFactorization.Cp,
                var other => throw new CliException(ExitCodes.Usage, $"--factorize '{other}' is not svd, tucker2, spatial-svd, depthwise-separable or cp"),
            };
            var energy = parse.GetValue(Energy);
            var ratio = parse.GetValue(RankRatio);
            if (energy != null && ratio != null) throw new CliException(ExitCodes.Usage, "--energy and --rank-ratio both choose the rank: give one");
            var known = new[] { Onnx.Ir.OpTypes.Gemm, Onnx.Ir.OpTypes.MatMul, Onnx.Ir.OpTypes.Conv };
            var ops = (parse.GetValue(Ops) ?? []).SelectMany(Split).ToList();
            foreach (var op in ops.Where(o => !known.Contains(o, StringComparer.Ordinal)))
            {
                throw new CliException(ExitCodes.Usage, $"--ops '{op}' is not one of {string.Join(", ", known)} (case-sensitive op types)");
            }
            if (ops.Count == 0) ops = [.. known];
            var svdOps = ops.Where(o => method == null || o != Onnx.Ir.OpTypes.Conv).Distinct().ToList();
            var passes = new List<IPass>();
            if (method is { } m && ops.Contains(Onnx.Ir.OpTypes.Conv))
            {
                passes.Add(Cli.Usage(() => catalog.Create(FactorizeConvPass.PassId, new FactorizeConvOptions
                {
                    Method = m, Energy = energy ?? 0.9, RankRatio = ratio, RankMultiple = parse.GetValue(RankMultiple), InputShapes = inputShapes,
                    Refit = !parse.GetValue(NoRefit),
                })));
            }
            if (svdOps.Count > 0)
            {
                passes.Add(Cli.Usage(() => catalog.Create(FactorizeSvdPass.PassId, new FactorizeSvdOptions
                {
                    IncludeOpTypes = svdOps, Energy = energy ?? 0.9, RankRatio = ratio, RankMultiple = parse.GetValue(RankMultiple), InputShapes = inputShapes,
                    Refit = !parse.GetValue(NoRefit),
                })));
            }
            if (passes.Count == 0) throw new CliException(ExitCodes.Usage, $"--factorize {mode} with --ops {string.Join(",", ops)} has nothing to factorize");
            return passes;
        }
    }

    /// <summary>
    /// --factorize with --target-macs: the model as the passes before leave it, each factorizable layer alone at several energies
    /// on the calibration data, and one pass per chosen layer at the energy that reaches the target with the least predicted loss.
    /// </summary>
    private static List<IPass> FactorizeTargeted(ParseResult parse, double target, List<IPass> factorizers, List<IPass> before, string modelPath,
        string? calibrationDir, ImagePreprocess? images, RuntimeCliOptions runtime, PassCatalog catalog, int sensitivitySamples)
    {
        if (!(target > 0 && target < 1)) throw new CliException(ExitCodes.Usage, "the target is a share in (0, 1), e.g. --target-macs 0.5");
        var (model, samples) = SensitivityData(modelPath, before, calibrationDir, images, sensitivitySamples, "--target-macs chooses ranks");
        var shapes = samples[0].InputShapes();
        var templates = factorizers.Select(f => ((FactorizeOptions)f.Options) is { InputShapes.Count: 0 } o ? catalog.Create(f.Id, o with { InputShapes = shapes }) : f).ToList();
        var (table, byLayer) = SensitivityCommand.WithProgress("rank sensitivity",
            progress => FactorizationTargets.Measure(model, templates, samples, runtime.Settings(parse, null), catalog, progress));
        var (energies, predicted) = Cli.Usage(() => PruningSensitivity.Choose(table, 1 - target));
        AnsiConsole.MarkupLineInterpolated($"rank sensitivity: {table.Layers.Count} layers × {FactorizationTargets.Energies.Count} energies on {table.Samples} samples in {table.Seconds:F1} s; {energies.Count} layers chosen, predicted {predicted:P1} of their {Format.Metric(table.Total ?? 0)} MACs saved");
        return [.. FactorizationTargets.Passes(energies, byLayer, catalog)];
    }

    private static FactorizationResult? ResultOf(IPass pass) => pass switch
    {
        FactorizeSvdPass s => s.LastResult,
        FactorizeConvPass c => c.LastResult,
        _ => null,
    };

    private static void PrintFactorization(IReadOnlyList<IPass> factorizers, bool refitAsked)
    {
        foreach (var f in factorizers.Select(ResultOf).OfType<FactorizationResult>())
        {
            var macs = f.MacsBefore is { } mb && f.MacsAfter is { } ma ? $"{Format.Metric(mb)} → {Format.Metric(ma)}" : "? (pass --input-shape)";
            var error = f.Layers.Count > 0 ? $", relative error median {MedianOf(f.Layers.Select(l => l.RelativeError)):F4}, max {f.Layers.Max(l => l.RelativeError):F4}" : "";
            AnsiConsole.MarkupLineInterpolated($"{f.PassId}: {f.Layers.Count} layers factorized, {f.Skipped.Count} skipped; their params {Format.Metric(f.ParametersBefore)} → {Format.Metric(f.ParametersAfter)}, MACs {macs}{error} ({f.Seconds:F1} s)");
            if (f.Layers.Count == 0) continue;
            if (!f.Refit.On)
            {
                AnsiConsole.MarkupLine(refitAsked ? "refit: off (pass --calibration-data DIR to refit the last factors; --no-refit turns it off)" : "refit: off (--no-refit)");
                continue;
            }
            var refit = f.Refit.Layers.Where(l => l.Applied).ToList();
            var errors = refit.Count > 0
                ? $", output error median {MedianOf(refit.Select(l => l.ErrorBefore!.Value)):F4} → {MedianOf(refit.Select(l => l.ErrorAfter!.Value)):F4}"
                : "";
            AnsiConsole.MarkupLineInterpolated($"refit: {refit.Count} of {f.Refit.Layers.Count} last factors{BiasOnlyNote(refit)} on {f.Refit.Samples} samples{errors} ({f.Refit.Seconds:F1} s)");
        }
    }

    private static object? FactorizationJson(IReadOnlyList<IPass> factorizers)
    {
        var results = factorizers.Select(ResultOf).OfType<FactorizationResult>().ToList();
        if (results.Count == 0) return null;
        return new
        {
            parametersBefore = results.Sum(f => f.ParametersBefore),
            parametersAfter = results.Sum(f => f.ParametersAfter),
            macsBefore = results.All(f => f.MacsBefore != null) ? results.Sum(f => f.MacsBefore) : null,
            macsAfter = results.All(f => f.MacsAfter != null) ? results.Sum(f => f.MacsAfter) : null,
            layers = results.SelectMany(f => f.Layers.Select(l => new
            {
                pass = f.PassId,
                node = l.Node,
                op = l.OpType,
                method = l.Method,
                ranks = l.Ranks,
                parametersBefore = l.ParametersBefore,
                parametersAfter = l.ParametersAfter,
                macsBefore = l.MacsBefore,
                macsAfter = l.MacsAfter,
                relativeError = Math.Round(l.RelativeError, 6),
                nodes = l.Nodes,
                outputErrorBefore = l.Refit?.ErrorBefore,
                outputErrorAfter = l.Refit?.ErrorAfter,
                refit = l.Refit?.Applied,
                refitScope = ScopeName(l.Refit?.Scope),
                refitDetail = l.Refit?.Detail,
                refitReason = l.Refit?.SkipReason,
            })),
            refit = results.Select(f => new { pass = f.PassId, summary = Repair(f.Refit) }),
            skipped = results.SelectMany(f => f.Skipped.Select(s => new { pass = f.PassId, node = s.Node, op = s.OpType, reason = s.Reason })),
            seconds = results.Select(f => new { pass = f.PassId, seconds = Math.Round(f.Seconds, 3) }),
        };
    }
}
