using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Quantization;

/// <summary>How <see cref="QuantizeStaticPass"/> writes the quantized graph.</summary>
public enum QuantFormat
{
    /// <summary>QuantizeLinear/DequantizeLinear pairs around float ops, which ONNX Runtime fuses into int8 kernels (portable, default).</summary>
    Qdq,

    /// <summary>Integer operators directly (QLinearConv, QLinearMatMul, com.microsoft QGemm, QLinearAdd, …).</summary>
    QOperator,
}

/// <summary>
/// Static quantization: activations over calibrated ranges, weights int8, biases int32.
/// <para>Before: <c>y = Relu(Conv(x, W, b))</c>. After (QDQ): <c>y = DQ(Q(Conv(DQ(Q(x)), DQ(Wq), DQ(bq))))</c> with the Relu folded into
/// the output's quantizer, which ONNX Runtime runs as one QLinearConv; QOperator writes <c>QLinearConv(Q(x), …)</c> directly.</para>
/// <para>Math (<see cref="QuantMath"/>): activations uint8 asymmetric or int8 symmetric over the calibrated [min, max] widened to hold 0;
/// weights int8 symmetric, per output channel by default, 7-bit with <see cref="QuantizeStaticOptions.ReduceRange"/>; bias int32 with scale
/// input scale × weight scale and zero point 0. A folded Relu/Clip(0, max) quantizes over [0, max] with the zero point at the lowest code
/// (also for int8), so the quantizer's clamp is the activation. Passthrough ops reuse their input's scale and zero point.</para>
/// <para>First, unless <see cref="QuantizeStaticOptions.FoldConvAffine"/> is off, the exact <see cref="FoldConvAffinePass"/> folds
/// per-channel Mul/Add after a Conv into it, and <see cref="FoldBatchNormPass"/> a BatchNormalization that only then follows its
/// producer, and (<see cref="QuantizeStaticOptions.ConvTransposeAsConv"/>) <see cref="ConvTransposeToDepthToSpacePass"/> turns a
/// stride-equals-kernel ConvTranspose into a 1×1 Conv + DepthToSpace (calibration sees the rewritten graph): each would otherwise
/// cost an int8 op, or a float op with Q/DQ around it.</para>
/// <para>Placement (<see cref="StaticQuantPlan"/>): Conv/Gemm/MatMul whenever their tensors are calibrated; scalar Mul/Div/Add/Sub on int8
/// tensors as rescales (no op); cheap ops only when their
/// inputs are already int8; passthroughs only between int8 ops; Softmax and LayerNormalization stay float; ConvTranspose gets int8
/// weights only (no int8 kernel). Graph inputs and outputs keep their names and float types.</para>
/// Preconditions: a calibration table whose keys are the model's tensor names (missing tensor → that node is skipped with the name);
/// ONNX opset ≥ 10 (≥ 13 for per-channel ONNX Q/DQ; com.microsoft Q/DQ are used between), or <see cref="QuantizeStaticOptions.UpgradeOpset"/>.
/// Only the main graph is quantized. Lossy.
/// </summary>
public sealed class QuantizeStaticPass(QuantizeStaticOptions options) : Pass<QuantizeStaticOptions>(options)
{
    public const string PassId = "quantize-static";

    public QuantizeStaticPass() : this(new QuantizeStaticOptions()) { }

    public override string Id => PassId;
    public override string Description => "Quantizes activations (calibrated ranges), weights and biases to int8 in QDQ or QOperator form";
    public override bool IsExact => false;

    /// <summary>
    /// The nodes the last run turned to int8 compute or int8 weights (not passthroughs, folded activations or rescales, which
    /// follow their neighbours): the nodes an accuracy-aware search may keep in float through <see cref="QuantizeStaticOptions.ExcludeNodes"/>.
    /// </summary>
    public IReadOnlyList<QuantizedNode> LastQuantized { get; private set; } = [];

    /// <summary>
    /// The tensor names whose ranges this pass would read on <paramref name="model"/> (inputs and outputs of every candidate op,
    /// after folding): what a calibrator needs to observe. Does not change the model.
    /// </summary>
    public static IReadOnlyList<string> CalibrationTargets(Model model, QuantizeStaticOptions options)
    {
        var plan = StaticQuantPlan.Make(model.Graph, options, _ => new TensorRange(-1, 1), Math.Max(model.OpsetVersion("") ?? 1, QuantOps.PerChannelOpset), RanksOf(model));
        return [.. plan.RequestedRanges];
    }

    protected override void Execute(Model model, PassContext context, PassReport report)
    {
        if (Options.Calibration is null && context.Calibration is null)
        {
            throw new InvalidOperationException(
                "quantize-static needs calibration: set QuantizeStaticOptions.Calibration, or run it with a calibration provider (edgeopt optimize --quantize static --calibration-data DIR)");
        }
        if (Options.UpgradeOpset) OpsetUpgrade.RaiseForQuantization(model, report);
        var emit = new QuantEmit(model);
        if (emit.Opset < QuantOps.QuantizeOpset)
        {
            report.Skip("model", $"opset {emit.Opset} has no quantized operators (they start at {QuantOps.QuantizeOpset}); set UpgradeOpset (edgeopt does unless --no-upgrade-opset) to raise it to {QuantOps.PerChannelOpset}");
            return;
        }
        if (Options.FoldConvAffine) Run(new IPass[] { new FoldConvAffinePass(), new FoldBatchNormPass() }, model, context, report);
        if (Options.ConvTransposeAsConv) Run(new IPass[] { new ConvTransposeToDepthToSpacePass() }, model, context, report);
        var table = Options.Calibration ?? context.Calibration!.Calibrate(model, CalibrationTargets(model, Options), context.Cancellation);
        context.Cancellation.ThrowIfCancellationRequested();
        model.Graph.SortTopologically();
        var plan = StaticQuantPlan.Make(model.Graph, Options, name => table.TryGet(name, out var r) ? r : null, emit.Opset, RanksOf(model));
        if (Options.Format == QuantFormat.Qdq) new QdqWriter(plan, emit, Options).Write();
        else new QOperatorWriter(plan, emit, Options).Write();
        emit.ImportMicrosoftDomainIfUsed();
        model.Graph.SortTopologically();
        LastQuantized = [.. plan.Decisions.Where(d => d.Role is NodeRole.Compute or NodeRole.WeightOnly)
            .Select(d => new QuantizedNode(d.Node.Name, d.Node.OpType, d.Role == NodeRole.Compute ? "int8" : "weight-only"))];
        Report(plan, model, report);
    }

    /// <summary>Tensor ranks from static shape inference (a scalar constant may only be a rescale where it cannot raise the rank).</summary>
    private static Func<Value, int?> RanksOf(Model model)
    {
        var shapes = ShapeInference.Infer(model);
        return v => shapes.TypeOf(v)?.Rank ?? v.TensorType?.Rank;
    }

    /// <summary>
    /// Runs exact pre-steps and reports their changes under their ids. FoldConvAffine: a per-channel Mul/Add after a Conv would
    /// otherwise cost an int8 op each, and a BatchNormalization behind a folded Add (Paddle's ConvTranspose → Add(bias) →
    /// BatchNormalization) only then follows its producer. ConvTransposeAsConv: ONNX Runtime has no int8 ConvTranspose.
    /// </summary>
    private static void Run(IEnumerable<IPass> passes, Model model, PassContext context, PassReport report)
    {
        foreach (var pass in passes)
        {
            var folded = pass.Run(model, context);
            foreach (var change in folded.Changes) report.Change(change.Target, $"{pass.Id}: {change.Message}");
        }
    }

    private static void Report(StaticQuantPlan plan, Model model, PassReport report)
    {
        var counts = new Dictionary<NodeRole, int>();
        foreach (var d in plan.Decisions)
        {
            counts[d.Role] = counts.GetValueOrDefault(d.Role) + 1;
            var label = d.Node.ToString();
            if (d.Role == NodeRole.Float)
            {
                if (d.Node.IsConstantNode) continue;
                report.Skip(label, d.Message);
            }
            else
            {
                report.Change(label, d.Message);
            }
        }
        foreach (var sub in model.Graph.Nodes.SelectMany(n => n.Subgraphs))
        {
            report.Skip($"subgraph '{sub.Name}'", "only the main graph is quantized");
        }
        var quantized = counts.GetValueOrDefault(NodeRole.Compute) + counts.GetValueOrDefault(NodeRole.Passthrough) + counts.GetValueOrDefault(NodeRole.Folded)
            + counts.GetValueOrDefault(NodeRole.Rescale);
        var summary = $"{quantized} nodes int8 ({counts.GetValueOrDefault(NodeRole.Compute)} compute, {counts.GetValueOrDefault(NodeRole.Passthrough)} passthrough, " +
            $"{counts.GetValueOrDefault(NodeRole.Rescale)} rescales, " +
            $"{counts.GetValueOrDefault(NodeRole.Folded)} folded activations), {counts.GetValueOrDefault(NodeRole.WeightOnly)} weight-only, " +
            $"{plan.Decisions.Count(d => d.Role == NodeRole.Float && !d.Node.IsConstantNode)} float";
        if (quantized + counts.GetValueOrDefault(NodeRole.WeightOnly) > 0) report.Change("summary", summary);
        else report.Skip("summary", summary);
    }
}

/// <summary>A node a quantization pass changed: its name, op type, and how (e.g. "int8", "weight-only", "dynamic").</summary>
public sealed record QuantizedNode(string Name, string OpType, string Form);

/// <summary>Options of <see cref="QuantizeStaticPass"/>.</summary>
public sealed record QuantizeStaticOptions : PassOptions
{
    [Option("Activation ranges by tensor name, from calibration (required to run)")]
    public CalibrationTable? Calibration { get; init; }

    [Option("Qdq: QuantizeLinear/DequantizeLinear pairs ONNX Runtime fuses; QOperator: integer operators directly")]
    public QuantFormat Format { get; init; } = QuantFormat.Qdq;

    [Option("Activation type: U8 (asymmetric) or S8 (symmetric)")]
    public QuantType ActivationType { get; init; } = QuantType.U8;

    [Option("Quantize Conv/Gemm/MatMul weights per output channel rather than per tensor")]
    public bool PerChannel { get; init; } = true;

    [Option("Limit weight codes to 7 bits ([-64, 64]) so u8·s8 products cannot saturate on CPUs without VNNI")]
    public bool ReduceRange { get; init; }

    [Option("Fold a Relu, or Clip with min 0, into the quantized output of the op before it")]
    public bool FoldActivations { get; init; } = true;

    [Option("First fold Mul/Div/Add/Sub by per-channel constants, then BatchNormalization, into the Conv before them (exact)")]
    public bool FoldConvAffine { get; init; } = true;

    [Option("First rewrite a ConvTranspose with stride = kernel as a 1x1 Conv + DepthToSpace (exact), so it runs in int8")]
    public bool ConvTransposeAsConv { get; init; } = true;

    [Option("Run Mul/Div by a positive scalar and Add/Sub of a scalar on int8 tensors as a new scale or zero point (no op)")]
    public bool RescaleScalarOps { get; init; } = true;

    [Option("A Conv with at most this many input channels (e.g. 3: an RGB stem) stays float, where ORT runs it faster (0: quantize every Conv)")]
    public int FloatStemMaxChannels { get; init; }

    [Option("When non-empty, only these op types are quantized")]
    public IReadOnlyList<string> IncludeOpTypes { get; init; } = [];

    [Option("Op types never quantized")]
    public IReadOnlyList<string> ExcludeOpTypes { get; init; } = [];

    [Option("When non-empty, only nodes with these names are quantized")]
    public IReadOnlyList<string> IncludeNodes { get; init; } = [];

    [Option("Node names never quantized")]
    public IReadOnlyList<string> ExcludeNodes { get; init; } = [];

    [Option("Raise an older model's ONNX opset to 13 first, only when every node provably keeps its meaning")]
    public bool UpgradeOpset { get; init; }

    public override IEnumerable<string> Validate()
    {
        if (!Enum.IsDefined(Format)) yield return $"Format {(int)Format} is not a QuantFormat";
        if (!Enum.IsDefined(ActivationType)) yield return $"ActivationType {(int)ActivationType} is not a QuantType";
        foreach (var (name, range) in Calibration?.Ranges ?? new Dictionary<string, TensorRange>())
        {
            if (!float.IsFinite(range.Min) || !float.IsFinite(range.Max) || range.Min > range.Max)
            {
                yield return $"calibration range of '{name}' is {range}";
            }
        }
        if (FloatStemMaxChannels < 0) yield return $"FloatStemMaxChannels {FloatStemMaxChannels} is negative";
        foreach (var p in NodeFilter.Validate(IncludeOpTypes, ExcludeOpTypes, IncludeNodes, ExcludeNodes)) yield return p;
    }

    internal NodeFilter Filter => new(IncludeOpTypes, ExcludeOpTypes, IncludeNodes, ExcludeNodes);
}
