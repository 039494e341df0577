using System.CommandLine;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Pipeline.Data.Images;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Optimization;
using EdgeOpt.Targets;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>optimize</c>: the low-rank factorization options and their report.</summary>
public static partial class OptimizeCommand
{
    private sealed class FactorizationOptions
    {
        public Option<string?> Mode { get; } = new("--factorize")
        {
            Description = "Low-rank factorization: svd (Gemm/MatMul/1×1 Conv), or tucker2, spatial-svd, depthwise-separable, cp for k×k Conv (plus svd for Gemm/MatMul in --ops), " +
                "or auto (svd, and spatial-svd for k×k Conv; with a target, spatial-svd and tucker2 compete per layer)",
        };
        public Option<double?> Energy { get; } = new("--energy") { Description = "factorize: share of each weight's energy ‖W‖²_F kept (default 0.9)" };
        public Option<double?> RankRatio { get; } = new("--rank-ratio") { Description = "factorize: rank = ⌈ratio · full rank⌉ instead of --energy" };
        public Option<int> RankMultiple { get; } = new("--rank-multiple") { Description = "factorize: round ranks up to a multiple of this", DefaultValueFactory = _ => 8 };
        public Option<string[]> Ops { get; } = new("--ops") { Description = "factorize: op types to factorize, of Gemm, MatMul, Conv (comma-separated; default all three)" };
        public Option<bool> NoRefit { get; } = new("--no-refit")
        {
            Description = "factorize: do not refit each layer's last factor by least squares on --calibration-data (with calibration data, refit is on by default)",
        };
        public Option<double?> TargetLatency { get; } = new("--target-latency")
        {
            Description = "factorize: keep at most this share of the model's latency on --ep/--target (e.g. 0.7), per-layer methods and ranks chosen from " +
                "fidelity on --calibration-data and the latency of each candidate timed alone; candidates not faster are skipped",
        };
        public Option<bool> SkipSlower { get; } = new("--skip-slower")
        {
            Description = "factorize: time each layer against its factors on --ep/--target and leave alone those not faster there (always on with --target-latency)",
        };
        public Option<string?> Ep { get; } = new("--ep") { Description = "factorize: execution provider the latency of layers and candidates is timed on (default cpu)" };
        public Option<string?> Target { get; } = new("--target")
        {
            Description = "factorize: time layers and candidates as on this target profile (edgeopt targets): its providers and threads",
        };
        public Option<DirectoryInfo[]> TargetDirs { get; } = TargetsCommand.DirectoriesOption();

        public IEnumerable<Option> All => [Mode, Energy, RankRatio, RankMultiple, Ops, NoRefit, TargetLatency, SkipSlower, Ep, Target, TargetDirs];

        /// <summary>The factorization passes asked for (none without --factorize), in the order they run.</summary>
        /// <param name="competing">With a target, auto offers k×k convs to both spatial-svd and tucker2 (the rank selection picks per layer).</param>
        public List<IPass> Create(ParseResult parse, PassCatalog catalog, IReadOnlyDictionary<string, long[]> inputShapes, bool competing)
        {
            var mode = parse.GetValue(Mode)?.Trim().ToLowerInvariant();
            if (mode == null)
            {
                if (parse.GetValue(TargetLatency) != null || parse.GetValue(SkipSlower)) throw new CliException(ExitCodes.Usage, "--target-latency/--skip-slower choose factorizations: add --factorize");
                return [];
            }
            ConvFactorization[] methods = mode switch
            {
                "svd" => [],
                "tucker2" or "tucker-2" => [ConvFactorization.Tucker2],
                "spatial-svd" => [ConvFactorization.SpatialSvd],
                "depthwise-separable" => [ConvFactorization.DepthwiseSeparable],
                "cp" => [ConvFactorization.Cp],
                "auto" => competing ? [ConvFactorization.SpatialSvd, ConvFactorization.Tucker2] : [ConvFactorization.SpatialSvd],
                var other => throw new CliException(ExitCodes.Usage, $"--factorize '{other}' is not svd, tucker2, spatial-svd, depthwise-separable, cp or auto"),
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
            // svd also takes 1×1 convs: with a k×k method it does so only under auto (a plain k×k method means those convs only).
            var svdOps = ops.Where(o => methods.Length == 0 || mode == "auto" || o != Onnx.Ir.OpTypes.Conv).Distinct().ToList();
            var passes = new List<IPass>();
            if (ops.Contains(Onnx.Ir.OpTypes.Conv))
            {
                foreach (var m in methods)
                {
                    passes.Add(Cli.Usage(() => catalog.Create(FactorizeConvPass.PassId, new FactorizeConvOptions
                    {
                        Method = m, Energy = energy ?? 0.9, RankRatio = ratio, RankMultiple = parse.GetValue(RankMultiple), InputShapes = inputShapes,
                        Refit = !parse.GetValue(NoRefit),
                    })));
                }
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

        /// <summary>The latency probe for --target-latency/--skip-slower: --target's providers and threads, or --ep, on --ort-lib.</summary>
        public OrtLatencyProbe Probe(ParseResult parse, RuntimeCliOptions runtime)
        {
            var given = runtime.Settings(parse, null);
            if (parse.GetValue(Target) is not { } name) return new OrtLatencyProbe(runtime.Settings(parse, parse.GetValue(Ep)));
            if (parse.GetValue(Ep) != null) throw new CliException(ExitCodes.Usage, "--target sets the providers: drop --ep (or drop --target)");
            var profile = TargetsCommand.Load(() => TargetProfiles.Find(name, TargetsCommand.Int8Targets, (parse.GetValue(TargetDirs) ?? []).Select(d => d.FullName)));
            return new OrtLatencyProbe(TargetSettings.For(profile, given.LoadLibrary(), given, Console.Error.WriteLine));
        }
    }

    /// <summary>What rank selection decided, for the report: the table, the target and the choice, and the latency measured after.</summary>
    private sealed class RankSelection
    {
        public required RankTable Table { get; init; }
        public required double Target { get; init; }
        public required IReadOnlyDictionary<string, RankCandidate> Chosen { get; init; }
        public required double Predicted { get; init; }

        /// <summary>The model the passes before factorization leave: the baseline the result is measured against.</summary>
        public required Onnx.Ir.Model Baseline { get; init; }
        public ILatencyProbe? Probe { get; init; }

        /// <summary>The samples the table was measured on, and how they ran.</summary>
        public required IReadOnlyList<Pipeline.Data.Sample> Samples { get; init; }
        public required RuntimeSettings Settings { get; init; }

        /// <summary>1 − Σ of the chosen candidates' losses (at least 0): the cosine the table predicts if the layers' errors simply added up.</summary>
        public double PredictedCosine => Math.Max(0, 1 - Chosen.Values.Sum(c => Math.Max(0, 1 - c.Cosine)));

        /// <summary>The written model against the baseline on the samples (min cosine), measured after writing.</summary>
        public double? MeasuredCosine { get; set; }

        /// <summary>Baseline and output timed side by side after writing (when latency was measured).</summary>
        public (double BeforeMs, double AfterMs)? Measured { get; set; }
    }

    /// <summary>
    /// --factorize with --target-macs or --target-latency: the model as the passes before leave it, each factorizable layer alone
    /// at several energies (and methods, for auto) on the calibration data — timed on the provider when latency counts — and one pass
    /// per chosen layer at the candidate that reaches the target with the least predicted loss.
    /// </summary>
    private static (List<IPass> Passes, RankSelection Selection) FactorizeTargeted(ParseResult parse, FactorizationOptions options, RankObjective objective, double target,
        List<IPass> factorizers, List<IPass> before, string modelPath, string? calibrationDir, ImagePreprocess? images, RuntimeCliOptions runtime, PassCatalog catalog,
        int sensitivitySamples)
    {
        var flag = objective == RankObjective.Macs ? "--target-macs" : "--target-latency";
        if (!(target > 0 && target < 1)) throw new CliException(ExitCodes.Usage, $"the target is a share in (0, 1), e.g. {flag} 0.5");
        var (model, samples) = SensitivityData(modelPath, before, calibrationDir, images, sensitivitySamples, $"{flag} chooses ranks");
        var shapes = samples[0].InputShapes();
        var settings = runtime.Settings(parse, null);
        var probe = objective == RankObjective.Latency || parse.GetValue(options.SkipSlower) ? options.Probe(parse, runtime) : null;
        var templates = factorizers.Select(f => ((FactorizeOptions)f.Options) is { InputShapes.Count: 0 } o ? catalog.Create(f.Id, o with { InputShapes = shapes }) : f).ToList();
        var table = SensitivityCommand.WithProgress("rank sensitivity",
            progress => FactorizationTargets.Measure(model, templates, samples, settings, catalog, objective, probe,
                refit: !parse.GetValue(options.NoRefit), progress));
        var (chosen, predicted) = Cli.Usage(() => FactorizationTargets.Choose(table, 1 - target));
        var candidates = table.Layers.Sum(l => l.Candidates.Count + l.NotFaster);
        var timed = (parse.GetValue(options.NoRefit) ? ", data-free" : ", each refit") +
            (probe == null ? "" : $", timed on {probe.Label} ({table.Layers.Sum(l => l.NotFaster)} not faster, dropped)");
        AnsiConsole.MarkupLineInterpolated($"rank sensitivity: {table.Layers.Count} layers, {candidates} candidates on {table.Samples} samples{timed} in {table.Seconds:F1} s");
        var saved = objective == RankObjective.Macs
            ? $"predicted {predicted:P1} of their {Format.Metric(table.Macs)} MACs saved"
            : $"predicted {predicted:P1} of the model's {table.ModelLatencyMs:F3} ms saved (×{1 / (1 - predicted):F2})";
        AnsiConsole.MarkupLineInterpolated($"rank selection: {chosen.Count} layers chosen ({string.Join(", ", chosen.Values.GroupBy(c => c.Method).Select(g => $"{g.Count()} {g.Key}"))}), {saved}");
        if (predicted < 1 - target - 1e-9) AnsiConsole.MarkupLineInterpolated($"[yellow]the target {flag} {target} is out of reach: every useful candidate is chosen[/]");
        var selection = new RankSelection
        {
            Table = table, Target = target, Chosen = chosen, Predicted = predicted, Probe = probe, Samples = samples, Settings = settings,
            Baseline = model,
        };
        return ([.. FactorizationTargets.Passes(chosen, catalog)], selection);
    }

    /// <summary>--skip-slower without a target: each layer the passes would factorize timed against its factors; those not faster are excluded.</summary>
    private static (List<IPass> Passes, IReadOnlyList<LayerTiming> Timings) FactorizeFaster(ParseResult parse, FactorizationOptions options, List<IPass> factorizers,
        List<IPass> before, string modelPath, IReadOnlyDictionary<string, long[]> givenShapes, RuntimeCliOptions runtime, PassCatalog catalog)
    {
        var model = ModelReader.Read(modelPath);
        new PassManager(before).Run(model);
        var shapes = new Dictionary<string, long[]>(givenShapes, StringComparer.Ordinal);
        foreach (var input in model.Graph.Inputs.Where(i => !i.IsInitializer && !shapes.ContainsKey(i.Name)))
        {
            shapes[input.Name] = input.TensorType?.StaticShape
                ?? throw new CliException(ExitCodes.Usage, $"--skip-slower times each layer alone, which needs a concrete shape for input '{input.Name}' ({input.Type}): pass --input-shape {input.Name}=DIMS");
        }
        var probe = options.Probe(parse, runtime);
        var (passes, timings) = SensitivityCommand.WithProgress("timing layers", _ => FactorizationTargets.DropSlower(model, factorizers, shapes, probe, catalog));
        var kept = timings.Count(t => t.Kept);
        AnsiConsole.MarkupLineInterpolated($"skip-slower: {timings.Count} layers timed against their factors on {probe.Label}: {kept} faster, {timings.Count - kept} not faster (left alone)");
        return ([.. passes], timings);
    }

    /// <summary>
    /// After writing: the written model's fidelity against the baseline on the samples the table was measured on (layers' errors
    /// compound, so it is usually below the table's prediction), and with a probe both models timed side by side on its provider.
    /// </summary>
    private static void MeasureResult(RankSelection selection, string written)
    {
        var output = ModelReader.Read(written);
        var cosine = SensitivityCommand.WithProgress("checking the result",
            _ => Pipeline.Fidelity.ReferenceOutputs.Run(selection.Baseline, selection.Samples, selection.Settings).Compare(output, selection.Settings).MinCosine);
        selection.MeasuredCosine = cosine;
        var color = cosine >= 0.99 ? "green" : cosine >= 0.95 ? "yellow" : "red";
        var advice = cosine < selection.PredictedCosine ? "; their errors compound" : "";
        AnsiConsole.MarkupLine($"fidelity on the {selection.Samples.Count} sensitivity samples: min cosine [{color}]{cosine:F4}[/] " +
            $"(the layers alone predicted {selection.PredictedCosine:F4}{advice}; for more fidelity raise the target)");
        if (selection.Probe == null) return;
        // Timed with random inputs of the first sample's shapes, as the layers were.
        var shapes = selection.Samples[0].InputShapes();
        var times = SensitivityCommand.WithProgress("timing the result",
            _ => selection.Probe.Time([FactorizationTargets.WithStaticInputs(selection.Baseline, shapes), FactorizationTargets.WithStaticInputs(output, shapes)]));
        selection.Measured = (times[0], times[1]);
        var line = $"latency on {Markup.Escape(selection.Probe.Label)}: {times[0]:F3} → {times[1]:F3} ms (×{times[0] / times[1]:F2}";
        if (selection.Table.Objective == RankObjective.Macs)
        {
            AnsiConsole.MarkupLine(line + ")");
            return;
        }
        var goal = selection.Target * times[0];
        var verdict = times[1] <= goal ? "[green]met[/]" : "[yellow]not met[/] (layer timings alone do not add up exactly in the whole model: lower the target, or check --ep/--threads)";
        AnsiConsole.MarkupLine(line + $"; predicted ×{1 / (1 - selection.Predicted):F2}); target {selection.Target} of the latency: {verdict}");
    }

    private static void PrintFactorization(IReadOnlyList<IPass> factorizers, bool refitAsked)
    {
        foreach (var f in Merged(factorizers))
        {
            var macs = f.MacsBefore is { } mb && f.MacsAfter is { } ma ? $"{Format.Metric(mb)} → {Format.Metric(ma)}" : "? (pass --input-shape)";
            var error = f.Layers.Count > 0 ? $", relative error median {LatencyStats.Median(f.Layers.Select(l => l.RelativeError)):F4}, max {f.Layers.Max(l => l.RelativeError):F4}" : "";
            AnsiConsole.MarkupLineInterpolated($"{f.PassId}: {f.Layers.Count} layers factorized, {f.Skipped.Count} skipped; their params {Format.Metric(f.ParametersBefore)} → {Format.Metric(f.ParametersAfter)}, MACs {macs}{error} ({f.Seconds:F1} s)");
            if (f.Layers.Count == 0) continue;
            if (!f.Refit.On)
            {
                AnsiConsole.MarkupLine(refitAsked ? "refit: off (pass --calibration-data DIR to refit the last factors; --no-refit turns it off)" : "refit: off (--no-refit)");
                continue;
            }
            var refit = f.Refit.Layers.Where(l => l.Applied).ToList();
            var errors = refit.Count > 0
                ? $", output error median {LatencyStats.Median(refit.Select(l => l.ErrorBefore!.Value)):F4} → {LatencyStats.Median(refit.Select(l => l.ErrorAfter!.Value)):F4}"
                : "";
            AnsiConsole.MarkupLineInterpolated($"refit: {refit.Count} of {f.Refit.Layers.Count} last factors{BiasOnlyNote(refit)} on {f.Refit.Samples} samples{errors} ({f.Refit.Seconds:F1} s)");
        }
    }

    /// <summary>
    /// One result per pass id: rank selection runs one pass per chosen layer, which reads best as one line per method. Skips are
    /// the layers no run of that pass factorized, for the reason its last run gave (include-list skips of the per-layer runs dropped).
    /// </summary>
    private static IEnumerable<FactorizationResult> Merged(IReadOnlyList<IPass> factorizers) =>
        factorizers.OfType<IFactorizationPass>().Select(f => f.LastResult).OfType<FactorizationResult>().GroupBy(r => r.PassId).Select(g =>
        {
            var runs = g.ToList();
            if (runs.Count == 1) return runs[0];
            var layers = runs.SelectMany(r => r.Layers).ToList();
            var done = layers.Select(l => l.Node).ToHashSet(StringComparer.Ordinal);
            var skipped = runs.SelectMany(r => r.Skipped).Where(s => !done.Contains(s.Node) && s.Reason != "not in IncludeNodes").DistinctBy(s => s.Node).ToList();
            long? Sum(Func<FactorizationResult, long?> of) => runs.All(r => of(r) != null) ? runs.Sum(r => of(r)!.Value) : null;
            var refits = runs.Where(r => r.Refit.On).ToList();
            return new FactorizationResult(g.Key, layers, skipped, runs.Sum(r => r.ParametersBefore), runs.Sum(r => r.ParametersAfter), Sum(r => r.MacsBefore),
                Sum(r => r.MacsAfter), runs.Sum(r => r.Seconds))
            {
                Refit = refits.Count == 0 ? Passes.Pruning.RepairSummary.Off
                    : new Passes.Pruning.RepairSummary(true, refits.Max(r => r.Refit.Samples), refits.Sum(r => r.Refit.Seconds), [.. refits.SelectMany(r => r.Refit.Layers)]),
            };
        });

    private static object? FactorizationJson(IReadOnlyList<IPass> factorizers, RankSelection? selection, IReadOnlyList<LayerTiming>? timings)
    {
        var results = Merged(factorizers).ToList();
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
            rankSelection = selection == null ? null : RankSelectionJson(selection),
            layerTimings = timings?.Select(t => new
            {
                node = t.Node, op = t.OpType, method = t.Method, originalMs = Math.Round(t.OriginalMs, 5), factorizedMs = Math.Round(t.FactorizedMs, 5), kept = t.Kept,
            }),
        };
    }

    private static object RankSelectionJson(RankSelection s)
    {
        var t = s.Table;
        return new
        {
            objective = t.Objective == RankObjective.Macs ? "macs" : "latency",
            target = s.Target,
            predictedSaving = Math.Round(s.Predicted, 6),
            factorizableMacs = t.Macs,
            modelLatencyMs = t.ModelLatencyMs is { } ms ? Math.Round(ms, 5) : (double?)null,
            timedOn = t.LatencyLabel,
            samples = t.Samples,
            seconds = Math.Round(t.Seconds, 3),
            predictedCosine = Math.Round(s.PredictedCosine, 6),
            measuredCosine = s.MeasuredCosine is { } mc ? Math.Round(mc, 6) : (double?)null,
            measured = s.Measured is { } m ? new { beforeMs = Math.Round(m.BeforeMs, 5), afterMs = Math.Round(m.AfterMs, 5), speedup = Math.Round(m.BeforeMs / m.AfterMs, 4) } : null,
            layers = t.Layers.Select(l => new
            {
                node = l.Node,
                op = l.OpType,
                macs = l.Macs,
                latencyMs = l.LatencyMs is { } lm ? Math.Round(lm, 5) : (double?)null,
                notFaster = l.NotFaster,
                chosen = s.Chosen.TryGetValue(l.Node, out var c) ? new { method = c.Method, energy = c.Energy } : null,
                candidates = l.Candidates.Select(k => new
                {
                    method = k.Method, energy = k.Energy, cosine = Math.Round(k.Cosine, 6), macsSaved = k.MacsSaved,
                    latencyMs = k.LatencyMs is { } km ? Math.Round(km, 5) : (double?)null,
                }),
            }),
        };
    }
}
