using System.CommandLine;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Data.Images;
using EdgeOpt.Pipeline.Optimization;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary>
/// <c>edgeopt optimize MODEL -o OUT</c>: cleanup, then (on request) pruning — repaired from the calibration data when
/// <c>--calibration-data</c> is given —, low-rank factorization (the last factors refit from <c>--calibration-data</c> when
/// given), and int8 quantization, dynamic or calibrated.
/// </summary>
public static class OptimizeCommand
{
    private sealed class QuantOptions
    {
        public Option<string?> Mode { get; } = new("--quantize") { Description = "int8 quantization: dynamic (weights; activations at run time) or static (calibrated activations too)" };
        public Option<DirectoryInfo?> CalibrationData { get; } = new("--calibration-data") { Description = "Static quantization, pruning repair and factorization refit: calibration inputs (ONNX test-data layout, .npy files named after inputs, or images with --image-preprocess)" };
        public Option<string> CalibrationMethod { get; } = new("--calibration-method")
        {
            Description = "Static: minmax, percentile (default: clips rare outliers; measured better than minmax on the PP-OCR models), entropy or mse",
            DefaultValueFactory = _ => "percentile",
        };
        public Option<double> Percentile { get; } = new("--percentile") { Description = "Static, percentile method: the percentile kept", DefaultValueFactory = _ => 99.999 };
        public Option<int> Bins { get; } = new("--calibration-bins") { Description = "Static, histogram methods: bins per tensor", DefaultValueFactory = _ => HistogramCollector.DefaultBins };
        public Option<int?> Samples { get; } = new("--calibration-samples") { Description = "Static quantization, pruning repair and factorization refit: use at most N calibration samples" };
        public Option<string?> ImagePreprocess { get; } = new("--image-preprocess")
        {
            Description = "Calibration image folders: e.g. resize=320x320,scale=1/255,mean=0.485/0.456/0.406,std=0.229/0.224/0.225,layout=nchw,channels=rgb",
        };
        public Option<string> Format { get; } = new("--format") { Description = "Static: qdq (QuantizeLinear/DequantizeLinear pairs ORT fuses) or qoperator (QLinearConv, …)", DefaultValueFactory = _ => "qdq" };
        public Option<bool> NoPerChannel { get; } = new("--no-per-channel") { Description = "One weight scale per tensor instead of per output channel" };
        public Option<string?> ActivationType { get; } = new("--activation-type") { Description = "Static: u8 (asymmetric) or s8 (symmetric); default chosen for --int8-target" };
        public Option<bool> ReduceRange { get; } = new("--reduce-range") { Description = "7-bit weights (for CPUs without VNNI); default chosen for --int8-target" };
        public Option<string> Target { get; } = new("--int8-target")
        {
            Description = "CPU the int8 model is for: host, x64-avx2, x64-avx512, x64-avx512-vnni, x64-avx-vnni, arm64, arm64-dotprod",
            DefaultValueFactory = _ => "host",
        };
        public Option<string[]> ExcludeOp { get; } = new("--exclude-op") { Description = "Keep these op types in float (repeat or comma-separate)" };
        public Option<string[]> ExcludeNode { get; } = new("--exclude-node") { Description = "Keep these nodes in float (repeat or comma-separate)" };
        public Option<string> DynamicConv { get; } = new("--dynamic-conv")
        {
            Description = "Dynamic: Conv handling: skip (float; fastest on ORT CPU), weight-only (int8 storage) or integer (ConvInteger; slow)",
            DefaultValueFactory = _ => "skip",
        };
        public Option<bool> WeightOnly { get; } = new("--weight-only") { Description = "Dynamic: int8 weight storage only (DequantizeLinear on weights, float compute): smaller, same speed" };
        public Option<bool> NoUpgradeOpset { get; } = new("--no-upgrade-opset")
        {
            Description = "Leave an old opset alone (by default an opset < 13 is raised to 13 when every node provably keeps its meaning, so int8 operators exist)",
        };

        public Option<int> FloatStemChannels { get; } = new("--float-stem-channels")
        {
            Description = "Static: keep Convs with at most this many input channels (e.g. 3: an RGB stem) in float, where ORT runs them faster (0: quantize all)",
            DefaultValueFactory = _ => 0,
        };
        public Option<string?> AccuracyTarget { get; } = new("--accuracy-target")
        {
            Description = "Keep the most error-prone quantized nodes in float until the model meets this on --eval-data: cosine=0.99 or top1=0.99",
        };
        public Option<DirectoryInfo?> EvalData { get; } = new("--eval-data")
        {
            Description = "With --accuracy-target: the inputs the target is measured on (same layouts as --calibration-data; default: the calibration data)",
        };
        public Option<int?> MaxFloatNodes { get; } = new("--max-float-nodes") { Description = "With --accuracy-target: keep at most this many nodes in float" };
        public Option<string> SensitivityMethod { get; } = new("--sensitivity-method")
        {
            Description = "With --accuracy-target: rank nodes by the error each removes when kept float (leave-one-out, default) or the error with each alone quantized (isolated)",
            DefaultValueFactory = _ => "leave-one-out",
        };

        public IEnumerable<Option> All =>
        [
            Mode, CalibrationData, CalibrationMethod, Percentile, Bins, Samples, ImagePreprocess, Format, NoPerChannel, ActivationType, ReduceRange,
            Target, ExcludeOp, ExcludeNode, DynamicConv, WeightOnly, NoUpgradeOpset, FloatStemChannels, AccuracyTarget, EvalData, MaxFloatNodes, SensitivityMethod,
        ];
    }

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
            Description = "channels: keep at most this share of the model's MACs (e.g. 0.5), per-layer ratios chosen from a sensitivity analysis on --calibration-data",
        };
        public Option<double?> TargetSparsity { get; } = new("--target-sparsity")
        {
            Description = "magnitude: zero this share of the prunable weights (e.g. 0.8), per-layer sparsities chosen from a sensitivity analysis on --calibration-data",
        };
        public Option<int> SensitivitySamples { get; } = new("--sensitivity-samples") { Description = "With a target: samples the sensitivity analysis runs on", DefaultValueFactory = _ => 4 };

        public IEnumerable<Option> All => [Mode, Sparsity, Ratio, Granularity, Criterion, ChannelMultiple, SparseStorage, NoRepair, TargetMacs, TargetSparsity, SensitivitySamples];
    }

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
        var command = new Command("optimize", "Rewrite a model with optimization passes (cleanup, int8 quantization) and write the result")
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
                if (parse.GetValue(json) is { } recipeJson) Json.WriteFile(recipeJson.FullName, ToJson(recipeResult, null, null, null, null, null, []));
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
            ImagePreprocess? pruneImages = parse.GetValue(quant.ImagePreprocess) is { } imageSpec ? Cli.Usage(() => ImagePreprocess.Parse(imageSpec)) : null;
            (SensitivityTable Table, double Target, double Predicted)? pruneTarget = null;
            if (parse.GetValue(prune.TargetMacs) != null || parse.GetValue(prune.TargetSparsity) != null)
            {
                (pruning, pruneTarget) = Targeted(parse, prune, pruning, chosen, modelPath, calibrationDir, pruneImages, runtime, catalog);
            }
            if (pruning != null) chosen.Add(pruning);
            var factorizers = factorize.Create(parse, catalog, InputShapes.Parse(parse.GetValue(inputShapes)));
            chosen.AddRange(factorizers);
            QuantizationPolicy? policy = null;
            OrtCalibrationProvider? calibration = null;
            CalibrationSource? source = null;
            Func<QuantSelection, IPass>? quantizer = null;
            var images = parse.GetValue(quant.ImagePreprocess) is { } spec ? Cli.Usage(() => Pipeline.Data.Images.ImagePreprocess.Parse(spec)) : null;
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
            if (parse.GetValue(json) is { } jsonFile) Json.WriteFile(jsonFile.FullName, ToJson(result, policy, calibration, pruning, fallback?.LastResult, pruneTarget, factorizers));
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

    /// <summary>
    /// The pruning pass for --target-macs/--target-sparsity: the model as the passes before pruning leave it, each layer pruned
    /// alone at several ratios on the calibration data (norm ranking, no repair: a quick proxy), and per-layer ratios chosen to
    /// reach the target with the least predicted fidelity loss; layers not chosen are left alone.
    /// </summary>
    private static (IPass, (SensitivityTable, double, double)) Targeted(ParseResult parse, PruneOptions prune, IPass? pruning, List<IPass> before,
        string modelPath, string? calibrationDir, ImagePreprocess? images, RuntimeCliOptions runtime, PassCatalog catalog)
    {
        var macs = parse.GetValue(prune.TargetMacs);
        var sparsity = parse.GetValue(prune.TargetSparsity);
        switch (pruning)
        {
            case null: throw new CliException(ExitCodes.Usage, "--target-macs/--target-sparsity need --prune channels or --prune magnitude");
            case PruneChannelsPass when sparsity != null: throw new CliException(ExitCodes.Usage, "--target-sparsity goes with --prune magnitude; for channels use --target-macs");
            case PruneMagnitudePass when macs != null: throw new CliException(ExitCodes.Usage, "--target-macs goes with --prune channels; for magnitude use --target-sparsity");
        }
        var target = macs ?? sparsity!.Value;
        if (!(target > 0 && target < 1)) throw new CliException(ExitCodes.Usage, "the target is a share in (0, 1), e.g. --target-macs 0.5");
        if (calibrationDir == null) throw new CliException(ExitCodes.Usage, "--target-macs/--target-sparsity choose per-layer ratios by measuring fidelity: add --calibration-data DIR");
        if (parse.GetValue(prune.SensitivitySamples) < 1) throw new CliException(ExitCodes.Usage, "--sensitivity-samples must be at least 1");

        var model = ModelReader.Read(modelPath);
        new PassManager(before).Run(model);
        var samples = Cli.Usage(() => CalibrationSource.Open(calibrationDir, model, images).Take(parse.GetValue(prune.SensitivitySamples)).ToList());
        var method = pruning is PruneChannelsPass ? PruneMethod.Channels : PruneMethod.Magnitude;
        var channels = pruning is PruneChannelsPass pc ? pc.Options with { RankByActivations = false, Repair = false } : null;
        if (channels is { InputShapes.Count: 0 } && samples.Count > 0)
        {
            // MACs (the target's unit) need concrete shapes: the calibration sample's, for the analysis and for the pass's report.
            channels = channels with { InputShapes = samples[0].Inputs.ToDictionary(p => p.Key, p => p.Value.Dims.ToArray(), StringComparer.Ordinal) };
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

    private static IEnumerable<string> Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static QuantizeDynamicOptions DynamicOptions(ParseResult parse, QuantOptions q) => new()
    {
        PerChannel = !parse.GetValue(q.NoPerChannel),
        ReduceRange = parse.GetValue(q.ReduceRange),
        WeightOnly = parse.GetValue(q.WeightOnly),
        Conv = (parse.GetValue(q.DynamicConv) ?? "skip").Trim().ToLowerInvariant() switch
        {
            "skip" => DynamicConvMode.Skip,
            "weight-only" or "weightonly" => DynamicConvMode.WeightOnly,
            "integer" => DynamicConvMode.Integer,
            var other => throw new CliException(ExitCodes.Usage, $"--dynamic-conv '{other}' is not skip, weight-only or integer"),
        },
        ExcludeOpTypes = [.. (parse.GetValue(q.ExcludeOp) ?? []).SelectMany(Split)],
        ExcludeNodes = [.. (parse.GetValue(q.ExcludeNode) ?? []).SelectMany(Split)],
        UpgradeOpset = !parse.GetValue(q.NoUpgradeOpset),
    };

    private static (QuantizeStaticOptions Options, QuantizationPolicy Policy) StaticOptions(ParseResult parse, QuantOptions q)
    {
        var policy = Cli.Usage(() => Int8Target.Parse(parse.GetValue(q.Target) ?? "host")).Policy();
        var activation = parse.GetValue(q.ActivationType)?.Trim().ToLowerInvariant() switch
        {
            null => policy.SignedActivations ? QuantType.S8 : QuantType.U8,
            "u8" or "uint8" => QuantType.U8,
            "s8" or "int8" => QuantType.S8,
            var other => throw new CliException(ExitCodes.Usage, $"--activation-type '{other}' is not u8 or s8"),
        };
        var format = (parse.GetValue(q.Format) ?? "qdq").Trim().ToLowerInvariant() switch
        {
            "qdq" => QuantFormat.Qdq,
            "qoperator" or "qop" => QuantFormat.QOperator,
            var other => throw new CliException(ExitCodes.Usage, $"--format '{other}' is not qdq or qoperator"),
        };
        var options = new QuantizeStaticOptions
        {
            Format = format,
            ActivationType = activation,
            PerChannel = !parse.GetValue(q.NoPerChannel),
            ReduceRange = parse.GetValue(q.ReduceRange) || policy.ReduceRange,
            ExcludeOpTypes = [.. (parse.GetValue(q.ExcludeOp) ?? []).SelectMany(Split)],
            ExcludeNodes = [.. (parse.GetValue(q.ExcludeNode) ?? []).SelectMany(Split)],
            UpgradeOpset = !parse.GetValue(q.NoUpgradeOpset),
            FloatStemMaxChannels = parse.GetValue(q.FloatStemChannels),
        };
        if (options.Validate().FirstOrDefault() is { } problem) throw new CliException(ExitCodes.Usage, problem.Replace("FloatStemMaxChannels", "--float-stem-channels"));
        var chosen = policy with
        {
            SignedActivations = activation == QuantType.S8,
            ReduceRange = options.ReduceRange,
        };
        return (options, chosen == policy ? policy : chosen with { Reason = $"{policy.Reason} (overridden on the command line)" });
    }

    private static bool IsQuantization(PassReport r) => r.PassId is QuantizeDynamicPass.PassId or QuantizeStaticPass.PassId;

    private static bool IsNode(PassEntry e) => e.Target != "summary" && e.Target != "model" && !e.Target.StartsWith("subgraph ", StringComparison.Ordinal);

    private static void Print(OptimizeResult result, QuantizationPolicy? policy, OrtCalibrationProvider? calibration, IPass? pruning, FallbackResult? accuracy)
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
            if (r.Skips.Count > 10) AnsiConsole.MarkupLineInterpolated($"[grey]{r.PassId}: {r.Skips.Count - 10} more skips in the --json report[/]");
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

    private static void PrintRepair(RepairSummary repair)
    {
        if (!repair.On)
        {
            AnsiConsole.MarkupLine("repair: off (pass --calibration-data DIR to refit the pruned layers; --no-repair turns it off)");
            return;
        }
        var refit = repair.Layers.Where(l => l.Applied).ToList();
        var before = refit.Count > 0 ? MedianOf(refit.Select(l => l.ErrorBefore ?? 0)).ToString("G3") : "-";
        var after = refit.Count > 0 ? MedianOf(refit.Select(l => l.ErrorAfter ?? 0)).ToString("G3") : "-";
        AnsiConsole.MarkupLineInterpolated($"repair: {refit.Count} of {repair.Layers.Count} layers refit on {repair.Samples} samples in {repair.Seconds:F1} s; median output error {before} → {after}");
        foreach (var l in repair.Layers.Where(l => !l.Applied).Take(10)) AnsiConsole.MarkupLineInterpolated($"[grey]repair skipped {l.Node}: {l.SkipReason}[/]");
    }

    private static void PrintAccuracy(FallbackResult a)
    {
        var verdict = a.Met ? "[green]met[/]" : "[red]missed[/]";
        AnsiConsole.MarkupLine($"accuracy target {Markup.Escape(a.Target.ToString())} on {a.Samples} samples: {verdict}; all int8 {a.MetricAllInt8:F6} → written {a.MetricFinal:F6}, " +
            $"{a.FloatNodes.Count} nodes kept float ({a.Evaluations} models evaluated, {a.Seconds:F1} s)");
        if (a.FloatNodes.Count == 0) return;
        var table = new Table().AddColumns("kept float", "op", "MACs", "sensitivity");
        foreach (var n in a.FloatNodes.Take(20))
        {
            table.AddRow(Markup.Escape(n.Node), n.OpType, n.Macs is { } m ? Format.Metric(m) : "?", n.Score.ToString("G4"));
        }
        AnsiConsole.Write(table);
        if (a.FloatNodes.Count > 20) AnsiConsole.MarkupLineInterpolated($"[grey]{a.FloatNodes.Count - 20} more in the --json report[/]");
        var share = a.QuantizedMacs > 0 ? $" ({a.FloatMacs / (double)a.QuantizedMacs:P1} of the quantized MACs)" : "";
        AnsiConsole.MarkupLineInterpolated($"cost: {Format.Metric(a.FloatMacs)} MACs back in float{share}");
        if (a.Cost is { } c)
        {
            AnsiConsole.MarkupLineInterpolated($"cost: size {Format.Bytes(c.BytesAllInt8)} → {Format.Bytes(c.BytesFinal)}, p50 {c.P50AllInt8Ms:F2} ms → {c.P50FinalMs:F2} ms (×{c.LatencyRatio:F2})");
        }
    }

    private static object ToJson(OptimizeResult r, QuantizationPolicy? policy, OrtCalibrationProvider? calibration, IPass? pruning, FallbackResult? accuracy,
        (SensitivityTable Table, double Target, double Predicted)? pruneTarget, IReadOnlyList<IPass> factorizers)
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
            factorization = FactorizationJson(factorizers),
        };
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
            AnsiConsole.MarkupLineInterpolated($"refit: {refit.Count} of {f.Refit.Layers.Count} last factors on {f.Refit.Samples} samples{errors} ({f.Refit.Seconds:F1} s)");
        }
    }

    private static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
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
                refitReason = l.Refit?.SkipReason,
            })),
            refit = results.Select(f => new { pass = f.PassId, summary = Repair(f.Refit) }),
            skipped = results.SelectMany(f => f.Skipped.Select(s => new { pass = f.PassId, node = s.Node, op = s.OpType, reason = s.Reason })),
            seconds = results.Select(f => new { pass = f.PassId, seconds = Math.Round(f.Seconds, 3) }),
        };
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
            reason = l.SkipReason,
        }),
    };

    private static object Sensitivity(NodeSensitivity s) => new { node = s.Node, op = s.OpType, macs = s.Macs, error = s.Error, score = s.Score };
}
