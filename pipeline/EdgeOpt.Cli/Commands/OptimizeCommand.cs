using System.CommandLine;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Data.Images;
using EdgeOpt.Pipeline.Optimization;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary>
/// <c>edgeopt optimize MODEL -o OUT</c>: cleanup, then (on request) pruning — repaired from the calibration data when
/// <c>--calibration-data</c> is given —, low-rank factorization (the last factors refit from <c>--calibration-data</c> when
/// given), and int8 quantization, dynamic or calibrated.
/// </summary>
public static partial class OptimizeCommand
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
            Description = "Drop initializers from the graph inputs (old IR<=3 models; implied by --quantize)",
        };
        var threshold = new Option<long?>("--external-data-threshold")
        {
            Description = "Write tensors of at least this many bytes to an external .data file beside the model",
        };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the report as JSON to this file" };
        var quant = new QuantOptions();
        var prune = new PruneOptions();
        var factorize = new FactorizationOptions();
        var inputShapes = new Option<string[]>("--input-shape") { Description = "Shape of a dynamic input for MAC counts, NAME=DIMS; repeat per input" };
        var runtime = new RuntimeCliOptions();
        var command = new Command("optimize", "Rewrite a model with optimization passes (cleanup, pruning, low-rank factorization, int8 quantization) and write the result")
        {
            model, output, passes, noCleanup, removeInitInputs, threshold, json,
        };
        var recipe = RunCommand.RecipeOption(required: false);
        command.Options.Add(recipe);
        foreach (var o in prune.All.Concat(factorize.All).Concat(quant.All)) command.Options.Add(o);
        command.Options.Add(inputShapes);
        runtime.AddTo(command);
        command.SetAction(parse => Cli.Guard(() =>
        {
            var modelPath = parse.GetValue(model)!.FullName;
            if (parse.GetValue(recipe) is { } recipeFile)
            {
                if (parse.GetValue(quant.Mode) != null || parse.GetValue(prune.Mode) != null || parse.GetValue(passes) is { Length: > 0 })
                {
                    throw new CliException(ExitCodes.Usage, "--recipe names the passes: drop --prune/--quantize/--passes (or drop --recipe)");
                }
                var r = RunCommand.Load(recipeFile.FullName, catalog);
                if (!string.Equals(Path.GetFullPath(r.Model), modelPath, StringComparison.Ordinal))
                {
                    throw new CliException(ExitCodes.Usage, $"the recipe's model is {r.Model}, not {modelPath}: give the same model (or edit the recipe)");
                }
                var recipeResult = Cli.Usage(() => Pipeline.Recipes.RecipeRunner.Optimize(r, parse.GetValue(output)!.FullName, catalog, runtime.Settings(parse, null)));
                Print(recipeResult, null, null, null, null);
                if (parse.GetValue(json) is { } recipeJson) Json.WriteFile(recipeJson.FullName, ToJson(recipeResult, null, null, null, null, null, [], null, null));
                return ExitCodes.Ok;
            }
            var mode = parse.GetValue(quant.Mode)?.Trim().ToLowerInvariant();
            if (mode is not (null or "dynamic" or "static"))
            {
                throw new CliException(ExitCodes.Usage, $"--quantize '{mode}' is not dynamic or static");
            }
            var ids = new List<string>();
            if (parse.GetValue(removeInitInputs) || mode != null) ids.Add(RemoveInitializerInputsPass.PassId);
            if (!parse.GetValue(noCleanup)) ids.AddRange(PassCatalog.CleanupSequence);
            ids.AddRange((parse.GetValue(passes) ?? []).SelectMany(Split));
            var chosen = ids.Distinct().Select(id => Cli.Usage(() => catalog.Create(id))).ToList();
            var thresholdBytes = parse.GetValue(threshold);
            if (thresholdBytes is < 0) throw new CliException(ExitCodes.Usage, "--external-data-threshold must be zero or more bytes");

            ProgressTask? calibrationTask = null;
            var repair = !parse.GetValue(prune.NoRepair);
            var calibrationDir = parse.GetValue(quant.CalibrationData)?.FullName;
            var criterion = (parse.GetValue(prune.Criterion) ?? (calibrationDir != null ? "activation" : "l1")).Trim().ToLowerInvariant();
            IPass? pruning = parse.GetValue(prune.Mode)?.Trim().ToLowerInvariant() switch
            {
                null => null,
                "magnitude" => Cli.Usage(() => catalog.Create(PruneMagnitudePass.PassId, new PruneMagnitudeOptions
                {
                    Sparsity = parse.GetValue(prune.Sparsity),
                    Granularity = (parse.GetValue(prune.Granularity) ?? "layer").Trim().ToLowerInvariant() switch
                    {
                        "layer" => PruneGranularity.Layer,
                        "global" => PruneGranularity.Global,
                        var other => throw new CliException(ExitCodes.Usage, $"--granularity '{other}' is not layer or global"),
                    },
                    SparseStorage = parse.GetValue(prune.SparseStorage),
                    Repair = repair,
                })),
                "channels" => Cli.Usage(() => catalog.Create(PruneChannelsPass.PassId, new PruneChannelsOptions
                {
                    Ratio = parse.GetValue(prune.Ratio),
                    Criterion = criterion switch
                    {
                        "l1" or "activation" => ChannelCriterion.L1,
                        "l2" => ChannelCriterion.L2,
                        var other => throw new CliException(ExitCodes.Usage, $"--criterion '{other}' is not l1, l2 or activation"),
                    },
                    RankByActivations = criterion == "activation",
                    ChannelMultiple = parse.GetValue(prune.ChannelMultiple),
                    InputShapes = InputShapes.Parse(parse.GetValue(inputShapes)),
                    Repair = repair,
                })),
                var other => throw new CliException(ExitCodes.Usage, $"--prune '{other}' is not magnitude or channels"),
            };
            var images = parse.GetValue(quant.ImagePreprocess) is { } spec ? Cli.Usage(() => ImagePreprocess.Parse(spec)) : null;
            (SensitivityTable Table, double Target, double Predicted)? pruneTarget = null;
            var targetMacs = parse.GetValue(prune.TargetMacs);
            var targetLatency = parse.GetValue(factorize.TargetLatency);
            var factorizers = factorize.Create(parse, catalog, InputShapes.Parse(parse.GetValue(inputShapes)), competing: targetMacs != null || targetLatency != null);
            if (targetMacs != null && pruning != null && factorizers.Count > 0)
            {
                throw new CliException(ExitCodes.Usage, "--target-macs chooses ratios for one method: give it with --prune or with --factorize, not both");
            }
            if (targetMacs != null && targetLatency != null) throw new CliException(ExitCodes.Usage, "--target-macs and --target-latency both choose the ranks: give one");
            var factorizeTarget = (targetMacs != null || targetLatency != null) && pruning == null && factorizers.Count > 0;
            if (!factorizeTarget && (targetMacs != null || parse.GetValue(prune.TargetSparsity) != null))
            {
                (pruning, pruneTarget) = Targeted(parse, prune, pruning, chosen, modelPath, calibrationDir, images, runtime, catalog);
            }
            if (pruning != null) chosen.Add(pruning);
            RankSelection? rankSelection = null;
            IReadOnlyList<LayerTiming>? layerTimings = null;
            if (factorizeTarget)
            {
                (factorizers, rankSelection) = FactorizeTargeted(parse, factorize, targetLatency != null ? RankObjective.Latency : RankObjective.Macs,
                    targetLatency ?? targetMacs!.Value, factorizers, chosen, modelPath, calibrationDir, images, runtime, catalog, parse.GetValue(prune.SensitivitySamples));
            }
            else if (factorizers.Count > 0 && parse.GetValue(factorize.SkipSlower))
            {
                (factorizers, layerTimings) = FactorizeFaster(parse, factorize, factorizers, chosen, modelPath, InputShapes.Parse(parse.GetValue(inputShapes)), runtime, catalog);
            }
            chosen.AddRange(factorizers);
            QuantizationPolicy? policy = null;
            OrtCalibrationProvider? calibration = null;
            CalibrationSource? source = null;
            Func<QuantSelection, IPass>? quantizer = null;
            if (calibrationDir != null && !Directory.Exists(calibrationDir))
            {
                throw new CliException(ExitCodes.Usage, $"--calibration-data '{calibrationDir}' is not a folder: pass a folder of calibration inputs (see --help)");
            }
            if (parse.GetValue(quant.Samples) is < 1) throw new CliException(ExitCodes.Usage, "--calibration-samples must be at least 1");
            OrtActivationProvider? activations = null;
            var rankByActivations = pruning is PruneChannelsPass && criterion == "activation";
            if (rankByActivations && calibrationDir == null)
            {
                throw new CliException(ExitCodes.Usage, "--criterion activation ranks channels on calibration data: add --calibration-data DIR");
            }
            var refit = factorizers.Count > 0 && !parse.GetValue(factorize.NoRefit);
            if (((pruning != null && (repair || rankByActivations)) || refit) && calibrationDir != null)
            {
                activations = new OrtActivationProvider(m => source ??= Cli.Usage(() => CalibrationSource.Open(calibrationDir, m, images)),
                    runtime.Settings(parse, null), parse.GetValue(quant.Samples));
            }
            var target = parse.GetValue(quant.AccuracyTarget) is { } targetText ? Cli.Usage(() => AccuracyTarget.Parse(targetText)) : null;
            var sensitivity = (parse.GetValue(quant.SensitivityMethod) ?? "leave-one-out").Trim().ToLowerInvariant() switch
            {
                "isolated" => Pipeline.Optimization.SensitivityMethod.Isolated,
                "leave-one-out" or "loo" => Pipeline.Optimization.SensitivityMethod.LeaveOneOut,
                var other => throw new CliException(ExitCodes.Usage, $"--sensitivity-method '{other}' is not isolated or leave-one-out"),
            };
            if (target != null && mode == null) throw new CliException(ExitCodes.Usage, "--accuracy-target applies to quantization: add --quantize static (or dynamic)");
            if (mode == "dynamic")
            {
                var options = DynamicOptions(parse, quant);
                quantizer = pick => catalog.Create(QuantizeDynamicPass.PassId, options with
                {
                    ExcludeNodes = [.. options.ExcludeNodes, .. pick.Float],
                    IncludeNodes = pick.Only is { } only ? [.. only] : options.IncludeNodes,
                });
            }
            else if (mode == "static")
            {
                (var options, policy) = StaticOptions(parse, quant);
                quantizer = pick => catalog.Create(QuantizeStaticPass.PassId, options with
                {
                    ExcludeNodes = [.. options.ExcludeNodes, .. pick.Float],
                    IncludeNodes = pick.Only is { } only ? [.. only] : options.IncludeNodes,
                });
                var dataDir = calibrationDir
                    ?? throw new CliException(ExitCodes.Usage, "--quantize static needs --calibration-data DIR (a few hundred representative inputs; see --help)");
                var calibrationOptions = new CalibrationOptions
                {
                    Method = Cli.Usage(() => CalibrationMethods.Parse(parse.GetValue(quant.CalibrationMethod) ?? "percentile")),
                    Percentile = parse.GetValue(quant.Percentile),
                    Bins = parse.GetValue(quant.Bins),
                    MaxSamples = parse.GetValue(quant.Samples),
                    Settings = runtime.Settings(parse, null),
                };
                var problems = calibrationOptions.Validate().ToList();
                if (problems.Count > 0) throw new CliException(ExitCodes.Usage, string.Join("; ", problems));
                calibration = new OrtCalibrationProvider(m => source ??= Cli.Usage(() => CalibrationSource.Open(dataDir, m, images)), calibrationOptions,
                    new CallbackProgress<CalibrationProgress>(p =>
                    {
                        if (calibrationTask == null) return;
                        calibrationTask.MaxValue = Math.Max(1, p.Total);
                        calibrationTask.Value = p.Done;
                        calibrationTask.Description = p.Total > 0 ? $"calibrating {p.Done}/{p.Total}" : $"calibrating {p.Done}";
                    }));
            }

            ProgressTask? accuracyTask = null;
            AccuracyFallback? fallback = null;
            if (quantizer != null && target != null)
            {
                var evalDir = parse.GetValue(quant.EvalData)?.FullName ?? parse.GetValue(quant.CalibrationData)?.FullName
                    ?? throw new CliException(ExitCodes.Usage, "--accuracy-target needs --eval-data DIR (inputs to measure the target on)");
                if (parse.GetValue(quant.MaxFloatNodes) is < 0) throw new CliException(ExitCodes.Usage, "--max-float-nodes must be zero or more");
                fallback = new AccuracyFallback(quantizer, m => Cli.Usage(() => CalibrationSource.Open(evalDir, m, images).ToList()),
                    new FallbackOptions(target, runtime.Settings(parse, null), parse.GetValue(quant.MaxFloatNodes), Method: sensitivity),
                    new CallbackProgress<FallbackProgress>(p =>
                    {
                        if (accuracyTask == null) return;
                        accuracyTask.MaxValue = Math.Max(1, p.Total);
                        accuracyTask.Value = p.Done;
                        accuracyTask.Description = $"accuracy target: {p.Phase} {p.Done}/{p.Total}";
                    }));
            }
            else if (quantizer != null)
            {
                chosen.Add(Cli.Usage(() => quantizer(new QuantSelection([]))));
            }

            var request = new OptimizeRequest(modelPath, parse.GetValue(output)!.FullName, chosen,
                new WriteOptions { ExternalDataThreshold = thresholdBytes }, fallback);
            var result = LiveProgress.Run(ctx =>
            {
                if (ctx != null && calibration != null) calibrationTask = ctx.AddTask("calibrating");
                if (ctx != null && fallback != null) accuracyTask = ctx.AddTask("accuracy target");
                return Cli.Usage(() => ModelOptimizer.Run(request, new PassContext { Calibration = calibration, Activations = activations }));
            });
            Print(result, policy, calibration, pruning, fallback?.LastResult);
            PrintFactorization(factorizers, !parse.GetValue(factorize.NoRefit));
            if (rankSelection != null) MeasureResult(rankSelection, result.Written.Path);
            if (parse.GetValue(json) is { } jsonFile)
            {
                Json.WriteFile(jsonFile.FullName, ToJson(result, policy, calibration, pruning, fallback?.LastResult, pruneTarget, factorizers, rankSelection, layerTimings));
            }
            if (fallback?.LastResult is { Met: false } missed)
            {
                throw new CliException(ExitCodes.FidelityFailed,
                    $"the accuracy target {missed.Target} is not met: {missed.MetricFinal:F6} with {missed.FloatNodes.Count} nodes in float " +
                    $"(the best measured; written to {result.Written.Path}); lower the target, raise --max-float-nodes, or try --calibration-method/--activation-type");
            }
            return ExitCodes.Ok;
        }));
        return command;
    }


    private static IEnumerable<string> Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool IsNode(PassEntry e) => e.Target != "summary" && e.Target != "model" && !e.Target.StartsWith("subgraph ", StringComparison.Ordinal);

    private static void Print(OptimizeResult result, QuantizationPolicy? policy, OrtCalibrationProvider? calibration, IPass? pruning, FallbackResult? accuracy)
    {
        var table = new Table().AddColumns("pass", "changed", "skipped", "ms");
        foreach (var r in result.Reports)
        {
            table.AddRow(r.PassId, r.Changes.Count.ToString(), r.Skips.Count.ToString(), r.Elapsed.TotalMilliseconds.ToString("F1"));
        }
        AnsiConsole.Write(table);
        foreach (var r in result.Reports)
        {
            // Nodes left out by an include list (e.g. the one-layer passes of --factorize --target-macs) are not news on a terminal.
            var skips = r.Skips.Where(s => s.Message != "not in IncludeNodes").ToList();
            foreach (var s in skips.Take(10)) AnsiConsole.MarkupLineInterpolated($"[grey]{r.PassId} skipped {s.Target}: {s.Message}[/]");
            if (skips.Count > 10) AnsiConsole.MarkupLineInterpolated($"[grey]{r.PassId}: {skips.Count - 10} more skips in the --json report[/]");
        }
        foreach (var r in result.Reports.Where(IsQuantization))
        {
            foreach (var s in r.Changes.Concat(r.Skips).Where(e => e.Target == "summary")) AnsiConsole.MarkupLineInterpolated($"{r.PassId}: {s.Message}");
        }
        if (pruning is PruneChannelsPass { LastResult: { } channels })
        {
            AnsiConsole.MarkupLineInterpolated($"prune-channels: {channels.Layers.Count} layers, parameters {Format.Metric(channels.ParametersBefore)} → {Format.Metric(channels.ParametersAfter)}, MACs {(channels.MacsBefore is { } mb ? Format.Metric(mb) : "?")} → {(channels.MacsAfter is { } ma ? Format.Metric(ma) : "? (pass --input-shape)")}");
        }
        if (pruning is PruneChannelsPass { LastResult.Repair: var channelRepair }) PrintRepair(channelRepair);
        if (pruning is PruneMagnitudePass { LastSummary: { } magnitude })
        {
            var zeros = magnitude.Layers.Sum(l => l.ZerosAfter);
            var total = Math.Max(1, magnitude.Layers.Sum(l => l.Parameters));
            var zipped = magnitude.After is { } after && magnitude.Before is { } before ? $", deflated {Format.Bytes(before.DeflatedBytes)} → {Format.Bytes(after.DeflatedBytes)}" : "";
            AnsiConsole.MarkupLineInterpolated($"prune-magnitude: {magnitude.Layers.Count} layers at {zeros / (double)total:P1} zeros, {magnitude.SparseTensors} stored sparse{zipped}");
            PrintRepair(magnitude.Repair);
        }
        if (policy != null) AnsiConsole.MarkupLineInterpolated($"int8 policy: {policy.ToString()}");
        foreach (var c in calibration?.Runs ?? [])
        {
            AnsiConsole.MarkupLineInterpolated($"calibration: {c.Method} over {c.Samples} samples, {c.Tensors} tensors, {c.Seconds:F1} s, peak RSS {Format.Bytes(c.PeakRssBytes)}");
        }
        if (accuracy != null) PrintAccuracy(accuracy);
        var w = result.Written;
        var external = w.ExternalDataPath != null ? $", {w.ExternalTensors} tensors in {Path.GetFileName(w.ExternalDataPath)}" : "";
        AnsiConsole.MarkupLineInterpolated($"wrote [bold]{w.Path}[/]: {Format.Bytes(w.TotalBytes)} (input {Format.Bytes(result.InputBytes)}, ×{result.InputBytes / (double)Math.Max(1, w.TotalBytes):F2} smaller){external}");
        if (w.AutoExternalized) AnsiConsole.MarkupLine("[yellow]the model passes 2 GiB embedded: tensors of 1 KiB and more went to external data[/]");
    }


    private static object ToJson(OptimizeResult r, QuantizationPolicy? policy, OrtCalibrationProvider? calibration, IPass? pruning, FallbackResult? accuracy,
        (SensitivityTable Table, double Target, double Predicted)? pruneTarget, IReadOnlyList<IPass> factorizers, RankSelection? rankSelection,
        IReadOnlyList<LayerTiming>? layerTimings)
    {
        var quant = r.Reports.Where(IsQuantization).ToList();
        return new
        {
            input = r.InputPath,
            output = r.Written.Path,
            inputBytes = r.InputBytes,
            outputBytes = r.Written.TotalBytes,
            sizeBytes = new { before = r.InputBytes, after = r.Written.TotalBytes },
            externalData = r.Written.ExternalDataPath,
            passes = r.Reports.Select(p => new
            {
                id = p.PassId,
                elapsedMs = Math.Round(p.Elapsed.TotalMilliseconds, 3),
                changed = p.Changes.Select(c => new { target = c.Target, message = c.Message }),
                skipped = p.Skips.Select(c => new { target = c.Target, reason = c.Message }),
            }),
            quantizedNodes = quant.Count == 0 ? null : quant.SelectMany(p => p.Changes.Where(IsNode)).Select(c => new { node = c.Target, detail = c.Message }).ToList(),
            floatNodes = quant.Count == 0 ? null : quant.SelectMany(p => p.Skips.Where(IsNode)).Select(c => new { node = c.Target, reason = c.Message }).ToList(),
            int8Policy = policy == null ? null : new
            {
                target = policy.Target.Name,
                activationType = policy.ActivationType,
                weightType = policy.WeightType,
                reduceRange = policy.ReduceRange,
                kernel = policy.Kernel,
                reason = policy.Reason,
            },
            pruning = pruning switch
            {
                PruneChannelsPass { LastResult: { } c } => (object)new
                {
                    method = "channels",
                    macsBefore = c.MacsBefore,
                    macsAfter = c.MacsAfter,
                    parametersBefore = c.ParametersBefore,
                    parametersAfter = c.ParametersAfter,
                    layers = c.Layers.Select(l => new { node = l.Node, op = l.OpType, channelsBefore = l.ChannelsBefore, channelsAfter = l.ChannelsAfter, macsBefore = l.MacsBefore, macsAfter = l.MacsAfter }),
                    repair = Repair(c.Repair),
                },
                PruneMagnitudePass { LastSummary: { } m } => new
                {
                    method = "magnitude",
                    denseWeightBytes = m.DenseWeightBytes,
                    storedWeightBytes = m.StoredWeightBytes,
                    sparseTensors = m.SparseTensors,
                    modelBytesBefore = m.Before?.RawBytes,
                    modelBytesAfter = m.After?.RawBytes,
                    deflatedBytesBefore = m.Before?.DeflatedBytes,
                    deflatedBytesAfter = m.After?.DeflatedBytes,
                    layers = m.Layers.Select(l => new { node = l.Node, op = l.OpType, parameters = l.Parameters, zeros = l.ZerosAfter, storedSparse = l.StoredSparse }),
                    repair = Repair(m.Repair),
                },
                _ => null,
            },
            pruningTarget = pruneTarget is not { } pt ? null : new
            {
                kind = pt.Table.Method == PruneMethod.Channels ? "macs" : "sparsity",
                target = pt.Target,
                predictedSaving = pt.Predicted,
                sensitivitySamples = pt.Table.Samples,
                sensitivitySeconds = Math.Round(pt.Table.Seconds, 3),
                ratios = pruning switch
                {
                    PruneChannelsPass p => p.Options.LayerRatios,
                    PruneMagnitudePass p => p.Options.LayerSparsity,
                    _ => null,
                },
            },
            accuracy = accuracy == null ? null : new
            {
                target = new { metric = accuracy.Target.Metric.ToString().ToLowerInvariant(), value = accuracy.Target.Value },
                sensitivityMethod = accuracy.Method == Pipeline.Optimization.SensitivityMethod.Isolated ? "isolated" : "leave-one-out",
                samples = accuracy.Samples,
                met = accuracy.Met,
                allInt8 = accuracy.MetricAllInt8,
                final = accuracy.MetricFinal,
                floatNodes = accuracy.FloatNodes.Select(Sensitivity),
                floatMacs = accuracy.FloatMacs,
                quantizedMacs = accuracy.QuantizedMacs,
                evaluations = accuracy.Evaluations,
                seconds = Math.Round(accuracy.Seconds, 3),
                cost = accuracy.Cost == null ? null : new
                {
                    bytesAllInt8 = accuracy.Cost.BytesAllInt8,
                    bytesFinal = accuracy.Cost.BytesFinal,
                    p50AllInt8Ms = Math.Round(accuracy.Cost.P50AllInt8Ms, 4),
                    p50FinalMs = Math.Round(accuracy.Cost.P50FinalMs, 4),
                    latencyRatio = Math.Round(accuracy.Cost.LatencyRatio, 4),
                },
                sensitivity = accuracy.Sensitivities.Select(Sensitivity),
            },
            calibration = calibration?.Runs.Select(c => new { method = c.Method, samples = c.Samples, tensors = c.Tensors, seconds = Math.Round(c.Seconds, 3), peakRssBytes = c.PeakRssBytes }).FirstOrDefault(),
            factorization = FactorizationJson(factorizers, rankSelection, layerTimings),
        };
    }
}
