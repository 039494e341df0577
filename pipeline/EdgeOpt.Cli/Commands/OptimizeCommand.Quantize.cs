using System.CommandLine;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Pipeline.Optimization;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>optimize</c>: the int8 quantization options, their passes and the accuracy-aware fallback's report.</summary>
public static partial class OptimizeCommand
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

    private static object Sensitivity(NodeSensitivity s) => new { node = s.Node, op = s.OpType, macs = s.Macs, error = s.Error, score = s.Score };
}
