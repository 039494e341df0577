using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Quantization;

/// <summary>How <see cref="QuantizeDynamicPass"/> treats Conv.</summary>
public enum DynamicConvMode
{
    /// <summary>Leave Conv in float: on ONNX Runtime's CPU EP every dynamic Conv form measured slower than float
    /// (ConvInteger is not vectorized; DynamicQuantizeLinear → DQ around a float Conv is not fused). Use quantize-static for Conv.</summary>
    Skip,

    /// <summary>int8 weights behind DequantizeLinear, float compute: smaller model, same speed.</summary>
    WeightOnly,

    /// <summary>DynamicQuantizeLinear → ConvInteger (uint8 × int8) → Cast → Mul by scales (+ bias). Runs on ONNX Runtime 1.30's CPU EP
    /// (older versions lack the uint8 × int8 ConvInteger kernel); slow there.</summary>
    Integer,
}

/// <summary>
/// Dynamic quantization: int8 weights now, activations quantized at run time.
/// <para>Before: <c>Y = MatMul(A, W)</c> (or <c>Gemm(A, W, C)</c>) with W a float constant.
/// After (opset ≥ 11): <c>(Aq, As, Az) = DynamicQuantizeLinear(A); Y = Cast(MatMulInteger(Aq, Wq, Az)) · (As · Ws) [+ C]</c>,
/// the pattern ONNX Runtime fuses into one <c>DynamicQuantizeMatMul</c>; before opset 11 that contrib node is emitted directly.
/// Wq are symmetric int8 codes (zero point 0), per output column when <see cref="QuantizeDynamicOptions.PerChannel"/>; a Gemm's transB is applied to
/// the codes, its alpha folded into Ws and beta into C. One DynamicQuantizeLinear is shared by every MatMul reading the same A.</para>
/// <para>Conv follows <see cref="QuantizeDynamicOptions.Conv"/> (see <see cref="DynamicConvMode"/>). <see cref="QuantizeDynamicOptions.WeightOnly"/> instead puts
/// <c>DequantizeLinear(Wq)</c> in front of every matched op (MatMul, Gemm, Conv, ConvTranspose) and keeps float compute.</para>
/// Math: real = code · scale with scale = max|W| / 127 per channel (see <see cref="QuantMath"/>); Y ≈ A·W within the
/// activation's 8-bit step times Σ|W|. Preconditions: float32 constant weights (not graph inputs), Gemm without transA; others are
/// skipped with the reason. Lossy.
/// </summary>
public sealed class QuantizeDynamicPass(QuantizeDynamicOptions options) : Pass<QuantizeDynamicOptions>(options)
{
    public const string PassId = "quantize-dynamic";

    public QuantizeDynamicPass() : this(new QuantizeDynamicOptions()) { }

    public override string Id => PassId;
    public override string Description => "Quantizes MatMul/Gemm (and optionally Conv) weights to int8 with activations quantized at run time";
    public override bool IsExact => false;

    /// <summary>The nodes the last run quantized (the ones <see cref="QuantizeDynamicOptions.ExcludeNodes"/> could keep in float).</summary>
    public IReadOnlyList<QuantizedNode> LastQuantized { get; private set; } = [];

    protected override void Execute(Model model, PassContext context, PassReport report)
    {
        var changed = new List<QuantizedNode>();
        if (Options.UpgradeOpset) OpsetUpgrade.RaiseForQuantization(model, report);
        var emit = new QuantEmit(model);
        var filter = Options.Filter;
        int quantized = 0, skipped = 0;
        foreach (var node in model.Graph.Nodes.ToList())
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if (!IsCandidate(node)) continue;
            var label = node.ToString();
            var outcome = filter.Reason(node) is { } filtered ? Rewrite.Skip(filtered) : Quantize(node, emit);
            if (outcome.Done)
            {
                quantized++;
                changed.Add(new QuantizedNode(node.Name, node.OpType, Options.WeightOnly ? "weight-only" : "dynamic"));
                report.Change(label, outcome.Message);
            }
            else
            {
                skipped++;
                report.Skip(label, outcome.Message);
            }
        }
        foreach (var sub in model.Graph.Nodes.SelectMany(n => n.Subgraphs).SelectMany(g => g.SelfAndDescendants()))
        {
            foreach (var node in sub.Nodes.Where(IsCandidate))
            {
                skipped++;
                report.Skip(node.ToString(), "inside a subgraph; only the main graph is quantized");
            }
        }
        emit.ImportMicrosoftDomainIfUsed();
        model.Graph.SortTopologically();
        LastQuantized = changed;
        var summary = $"{quantized} nodes quantized, {skipped} left in float";
        if (quantized > 0) report.Change("summary", summary);
        else report.Skip("summary", summary);
    }

    private static bool IsCandidate(Node n) =>
        n.Is(OpTypes.MatMul) || n.Is(OpTypes.Gemm) || n.Is(OpTypes.Conv) || n.Is(OpTypes.ConvTranspose);

    private Rewrite Quantize(Node node, QuantEmit emit)
    {
        var weightOnly = Options.WeightOnly;
        if (node.Is(OpTypes.Conv) || node.Is(OpTypes.ConvTranspose))
        {
            var mode = node.Is(OpTypes.ConvTranspose) && Options.Conv == DynamicConvMode.Integer ? DynamicConvMode.WeightOnly : Options.Conv;
            if (weightOnly) mode = DynamicConvMode.WeightOnly;
            return mode switch
            {
                DynamicConvMode.Skip => Rewrite.Skip($"dynamic {node.OpType} is slower than float on ONNX Runtime's CPU EP (Conv=Skip); use quantize-static, or Conv=WeightOnly for size"),
                DynamicConvMode.WeightOnly => WeightOnlyRewrite(node, emit),
                _ => ConvInteger(node, emit),
            };
        }
        return weightOnly ? WeightOnlyRewrite(node, emit) : MatMulInteger(node, emit);
    }

    /// <summary>The weight input, its quantization axis (null per tensor) and why it does not qualify.</summary>
    private (Value? Weight, int? Axis, string? Problem) WeightOf(Node node)
    {
        var isGemm = node.Is(OpTypes.Gemm);
        var isMatMul = node.Is(OpTypes.MatMul);
        var weight = node.Input(isMatMul ? MatMulInput.B : isGemm ? GemmInput.B : ConvInput.W);
        var (minRank, maxRank) = isMatMul || isGemm ? (2, 2) : (3, int.MaxValue);
        if (QuantEmit.WeightProblem(weight, "weight", minRank, maxRank) is { } problem) return (null, null, problem);
        var t = weight!.Constant!;
        if (t.ElementCount < Options.MinWeightElements) return (null, null, $"weight '{weight.Name}' has {t.ElementCount} elements (< MinWeightElements {Options.MinWeightElements})");
        if (!Options.PerChannel) return (weight, null, null);
        if (node.Is(OpTypes.ConvTranspose)) return (weight, node.GetInt(AttrNames.Group, 1) == 1 ? 1 : null, null);
        if (isGemm) return (weight, node.GetInt(AttrNames.TransB, 0) != 0 ? 0 : 1, null);
        return (weight, isMatMul ? 1 : 0, null);
    }

    private Rewrite WeightOnlyRewrite(Node node, QuantEmit emit)
    {
        var (weight, axis, problem) = WeightOf(node);
        if (problem != null) return Rewrite.Skip(problem);
        var w = emit.Weights(node, weight!.Constant!, axis, Options.ReduceRange);
        var dq = emit.Dequantize($"{QuantEmit.BaseName(node)}/weight", w.Codes, w.Scale, w.ZeroPoint, node, axis);
        var index = node.Inputs.ToList().IndexOf(weight);
        node.SetInput(index, dq);
        emit.RemoveIfUnused(weight);
        return Rewrite.Changed($"weight-only int8 ({Granularity(w.Weights)}), float compute: {QuantEmit.Size(w.Bytes)}");
    }

    private Rewrite MatMulInteger(Node node, QuantEmit emit)
    {
        var isGemm = node.Is(OpTypes.Gemm);
        if (isGemm && node.GetInt("transA", 0) != 0) return Rewrite.Skip("Gemm with transA=1 is not quantized");
        var (weight, axis, problem) = WeightOf(node);
        if (problem != null) return Rewrite.Skip(problem);
        var a = node.Input(MatMulInput.A)!;
        if (a.IsConstant) return Rewrite.Skip($"input '{a.Name}' is a constant; fold it first");
        var transB = isGemm && node.GetInt(AttrNames.TransB, 0) != 0;
        var alpha = isGemm ? node.GetFloat(AttrNames.Alpha, 1f) : 1f;
        var beta = isGemm ? node.GetFloat(AttrNames.Beta, 1f) : 1f;
        var c = isGemm ? node.Input(GemmInput.C) : null;
        if (c != null && beta != 1f && c.Constant == null) return Rewrite.Skip($"Gemm C '{c.Name}' is not constant and beta = {beta}");
        if (c?.Constant is { } ct && ct.DataType != TensorDataType.Float) return Rewrite.Skip($"Gemm C '{c.Name}' is {TensorDataTypes.OnnxName(ct.DataType)}");

        // Codes are [K, N]: a transB weight is transposed, so per-channel runs along axis 1 (the output columns).
        var columnAxis = axis == null ? (int?)null : 1;
        var w = emit.Weights(node, weight!.Constant!, columnAxis, Options.ReduceRange, transform: transB ? Transpose2D : null);
        if (alpha != 1f) emit.Graph.SetInitializer(w.Scale, Tensor.Create("", w.Scale.Initializer!.DimsArray(), [.. w.Weights.Scales.Select(s => s * alpha)]));
        var bias = c == null ? null : c.Constant is { } constC ? (beta == 1f ? c : emit.Constant($"{QuantEmit.BaseName(node)}/bias", Scaled(constC, beta))) : c;
        var name = QuantEmit.BaseName(node);
        Value y;
        string form;
        if (emit.Opset >= QuantOps.DynamicQuantizeOpset)
        {
            var dql = SharedDynamicQuantize(a, emit, node);
            var mm = emit.Add(QuantOps.MatMulInteger, name + "/matmul_integer", [dql.Output(DynamicQuantizeOutput.Y), w.Codes, dql.Output(DynamicQuantizeOutput.ZeroPoint)], name + "/int32", node);
            y = ScaleInt32(emit, node, mm.Output(), dql.Output(DynamicQuantizeOutput.Scale), w.Scale);
            form = "DynamicQuantizeLinear + MatMulInteger";
        }
        else
        {
            var fusedBias = bias?.Constant is { Rank: 1 } bt && bt.Dims[0] == w.Weights.Dims[1] ? bias : null;
            y = emit.Add(QuantOps.DynamicQuantizeMatMul, name + "/dynamic_quantize_matmul", [a, w.Codes, w.Scale, null, fusedBias], name + "/output", node, QuantOps.MicrosoftDomain).Output();
            if (fusedBias != null) bias = null;
            form = $"com.microsoft DynamicQuantizeMatMul (opset {emit.Opset} < {QuantOps.DynamicQuantizeOpset})";
        }
        if (bias != null) y = emit.Add(OpTypes.Add, name + "/add_bias", [y, bias], name + "/biased", node).Output();
        emit.Graph.ReplaceNode(node, [y]);
        emit.RemoveIfUnused(weight);
        if (c != null && !ReferenceEquals(c, bias)) emit.RemoveIfUnused(c);
        return Rewrite.Changed($"{form}, weight int8 ({Granularity(w.Weights)}): {QuantEmit.Size(w.Bytes)}");
    }

    private Rewrite ConvInteger(Node node, QuantEmit emit)
    {
        if (emit.Opset < QuantOps.DynamicQuantizeOpset)
        {
            return Rewrite.Skip($"ConvInteger needs DynamicQuantizeLinear (opset {QuantOps.DynamicQuantizeOpset}); the model imports opset {emit.Opset} (set UpgradeOpset)");
        }
        var (weight, axis, problem) = WeightOf(node);
        if (problem != null) return Rewrite.Skip(problem);
        var x = node.Input(ConvInput.X)!;
        var b = node.Input(ConvInput.B);
        if (b != null && (b.Constant == null || b.Constant.DataType != TensorDataType.Float || b.Constant.Rank != 1))
        {
            return Rewrite.Skip($"bias '{b.Name}' is not a 1-D float constant");
        }
        var w = emit.Weights(node, weight!.Constant!, axis, Options.ReduceRange);
        var name = QuantEmit.BaseName(node);
        var spatial = w.Weights.Dims.Length - 2;
        var channelShape = (long[])[w.Weights.Dims[0], .. Enumerable.Repeat(1L, spatial)];
        if (w.Weights.PerChannel) emit.Graph.SetInitializer(w.Scale, w.Scale.Initializer!.Reshape(channelShape));
        var dql = SharedDynamicQuantize(x, emit, node);
        var conv = emit.Add(QuantOps.ConvInteger, name + "/conv_integer", [dql.Output(DynamicQuantizeOutput.Y), w.Codes, dql.Output(DynamicQuantizeOutput.ZeroPoint)],
            name + "/int32", node, "", [.. node.Attributes]);
        var y = ScaleInt32(emit, node, conv.Output(), dql.Output(DynamicQuantizeOutput.Scale), w.Scale);
        if (b != null)
        {
            var bias = emit.Constant(name + "/bias", b.Constant!.Reshape(channelShape));
            y = emit.Add(OpTypes.Add, name + "/add_bias", [y, bias], name + "/biased", node).Output();
        }
        emit.Graph.ReplaceNode(node, [y]);
        emit.RemoveIfUnused(weight);
        emit.RemoveIfUnused(b);
        return Rewrite.Changed($"DynamicQuantizeLinear + ConvInteger (u8×s8), weight int8 ({Granularity(w.Weights)}): {QuantEmit.Size(w.Bytes)}");
    }

    /// <summary>Cast(int32) · (activation scale · weight scale): the float result of an integer MatMul/Conv.</summary>
    private static Value ScaleInt32(QuantEmit emit, Node node, Value int32, Value activationScale, Value weightScale)
    {
        var name = QuantEmit.BaseName(node);
        var cast = emit.Add(OpTypes.Cast, name + "/cast", [int32], name + "/float", node, "", Attribute.Int(QuantAttrs.To, (long)TensorDataType.Float));
        var scale = emit.Add(OpTypes.Mul, name + "/scale", [activationScale, weightScale], name + "/scale", node);
        return emit.Add(OpTypes.Mul, name + "/rescale", [cast.Output(), scale.Output()], name + "/rescaled", node).Output();
    }

    /// <summary>The DynamicQuantizeLinear already reading <paramref name="x"/>, or a new one named <c>{x}/dynamic_quantize</c>.</summary>
    private static Node SharedDynamicQuantize(Value x, QuantEmit emit, Node before)
    {
        var existing = x.Uses.Select(u => u.Node).FirstOrDefault(n => n.Is(QuantOps.DynamicQuantizeLinear) && n.Graph == before.Graph);
        if (existing != null) return existing;
        return emit.Graph.AddNode(QuantOps.DynamicQuantizeLinear, [x], [x.Name + "/quantized", x.Name + "/scale", x.Name + "/zero_point"],
            x.Name + "/dynamic_quantize", before: before);
    }

    private static (float[] Values, long[] Dims) Transpose2D(float[] values, long[] dims)
    {
        var (rows, cols) = ((int)dims[0], (int)dims[1]);
        var t = new float[values.Length];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < cols; c++) t[c * rows + r] = values[r * cols + c];
        }
        return (t, [cols, rows]);
    }

    private static Tensor Scaled(Tensor t, float factor) => Tensor.Create("", t.DimsArray(), [.. t.ToSingles().Select(v => v * factor)]);

    internal static string Granularity(QuantizedWeights w) => w.PerChannel ? $"per-channel, {w.Scales.Length} scales" : "per-tensor";
}

/// <summary>Options of <see cref="QuantizeDynamicPass"/>.</summary>
public sealed record QuantizeDynamicOptions : PassOptions
{
    [Option("Quantize weights per output channel (symmetric int8) rather than per tensor")]
    public bool PerChannel { get; init; } = true;

    [Option("Limit weight codes to 7 bits ([-64, 64]) so u8·s8 products cannot saturate on CPUs without VNNI")]
    public bool ReduceRange { get; init; }

    [Option("Store every matched weight as int8 behind DequantizeLinear and compute in float (smaller model, same speed)")]
    public bool WeightOnly { get; init; }

    [Option("Conv handling: Skip (slower than float on ORT CPU), WeightOnly (int8 storage) or Integer (ConvInteger u8×s8)")]
    public DynamicConvMode Conv { get; init; } = DynamicConvMode.Skip;

    [Option("Weights with fewer elements stay float (quantizing tiny weights saves nothing)")]
    public int MinWeightElements { get; init; } = 16;

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
        if (MinWeightElements < 0) yield return $"MinWeightElements must be ≥ 0, not {MinWeightElements}";
        if (!Enum.IsDefined(Conv)) yield return $"Conv {(int)Conv} is not a DynamicConvMode";
        foreach (var p in NodeFilter.Validate(IncludeOpTypes, ExcludeOpTypes, IncludeNodes, ExcludeNodes)) yield return p;
    }

    internal NodeFilter Filter => new(IncludeOpTypes, ExcludeOpTypes, IncludeNodes, ExcludeNodes);
}
