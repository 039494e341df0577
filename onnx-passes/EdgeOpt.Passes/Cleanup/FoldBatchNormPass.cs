using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Cleanup;

/// <summary>
/// Folds an inference-mode <c>BatchNormalization</c> into the <c>Conv</c>, <c>ConvTranspose</c> or <c>Gemm</c> that feeds it.
/// <para>Before: <c>t = Conv(x, W, b); y = BatchNormalization(t, γ, β, μ, σ²)</c>. After: <c>y = Conv(x, W', b')</c>.</para>
/// <para>Math, per output channel c, with s_c = γ_c / √(σ²_c + ε):
/// W'[c, …] = W[c, …]·s_c and b'_c = (b_c − μ_c)·s_c + β_c (b = 0 when absent).
/// ConvTranspose weights are [C_in, C_out/group, k…]: element [i, j, …] belongs to output channel
/// (i / (C_in/group))·(C_out/group) + j. Gemm (Y = α·A'·B' + β_g·C, output [N, M], BatchNormalization over axis 1)
/// scales column c of B' (row c of B when transB=1) and takes C' = s·C + (β − μ·s)/β_g (C' = β − μ·s with β_g set to 1
/// when C is absent or β_g = 0).</para>
/// Everything is computed in double and rounded once to the weight's type (float, float16 or double); the new weights
/// and biases are new initializers named <c>{node}/bn_folded_weight</c> and <c>{node}/bn_folded_bias</c>, so tensors
/// shared with other nodes are never changed; the old ones are removed when nothing else reads them.
/// Preconditions: only output 0 of the BatchNormalization is used; it is not in training mode (<c>training_mode=1</c>,
/// explicit <c>is_test=0</c>) nor per-activation (<c>spatial=0</c>); γ, β, μ, σ² are constant 1-D float tensors of one
/// length equal to the producer's output channels; the producer's weight (and bias, if any) are constant; the producer's
/// output feeds only this node and is not a graph output. The BatchNormalization's own output name is kept when it is
/// a graph output (the producer's output takes it over). Otherwise the node is skipped with the reason. Exact up to
/// floating-point rounding.
/// </summary>
public sealed class FoldBatchNormPass(NoOptions options) : NodeRewritePass<NoOptions>(options)
{
    public const string PassId = "fold-batchnorm";

    /// <summary>Weight and bias positions: the same for Conv and ConvTranspose (<see cref="ConvInput"/> W, B) and Gemm (<see cref="GemmInput"/> B, C).</summary>
    private const int WeightInput = ConvInput.W, BiasInput = ConvInput.B;

    public FoldBatchNormPass() : this(NoOptions.Instance) { }

    public override string Id => PassId;
    public override string Description => "Folds inference BatchNormalization into the preceding Conv, ConvTranspose or Gemm";
    public override bool IsExact => true;

    protected override bool Matches(Node node) => node.Is(OpTypes.BatchNormalization);

    protected override Rewrite Apply(Node bn, GraphEditor edit)
    {
        var x = bn.Input(BatchNormInput.X);
        if (x == null) return Rewrite.Skip("has no data input");
        if (ModeBlocker(bn) is { } mode) return Rewrite.Skip(mode);
        var producer = x.Producer;
        if (producer == null) return Rewrite.Skip($"input '{x.Name}' is not produced by a node");
        if (!(producer.Is(OpTypes.Conv) || producer.Is(OpTypes.ConvTranspose) || producer.Is(OpTypes.Gemm)))
        {
            return Rewrite.Skip($"input comes from {producer.OpType}; only Conv, ConvTranspose and Gemm take a folded BatchNormalization");
        }
        if (Bypass.IntermediateReason(x, bn) is { } shared) return Rewrite.Skip(shared);
        var affine = ReadAffine(bn, out var paramProblem);
        if (affine == null) return Rewrite.Skip(paramProblem!);
        var fold = producer.OpType switch
        {
            OpTypes.Conv => FoldConv(producer, affine),
            OpTypes.ConvTranspose => FoldConvTranspose(producer, affine),
            _ => FoldGemm(producer, affine),
        };
        if (fold.Problem != null) return Rewrite.Skip(fold.Problem);

        var oldWeight = producer.Input(WeightInput)!;
        var oldBias = producer.Input(BiasInput);
        producer.SetInput(WeightInput, edit.Constant(producer, "bn_folded_weight", fold.Weight!));
        producer.SetInput(BiasInput, edit.Constant(producer, "bn_folded_bias", fold.Bias!));
        if (fold.GemmBeta is { } beta) producer.SetAttribute(Attribute.Float(AttrNames.Beta, beta));
        edit.RemoveIfUnused(oldWeight);
        if (oldBias != null) edit.RemoveIfUnused(oldBias);
        var keptName = bn.Output(0).IsGraphOutput ? $"; graph output '{bn.Output(0).Name}' keeps its name" : "";
        Bypass.ReplaceWithUnusedConstants(edit, bn, x);
        return Rewrite.Changed($"folded into {producer.OpType} '{producer.Name}' ({affine.Scale.Length} channels){keptName}");
    }

    /// <summary>Why the node does not compute a per-channel affine map in inference (null when it does).</summary>
    private static string? ModeBlocker(Node bn)
    {
        for (var i = 1; i < bn.Outputs.Count; i++)
        {
            if (bn.Outputs[i] is { IsUsed: true } extra) return $"training output '{extra.Name}' is used";
        }
        if (bn.GetInt(AttrNames.TrainingMode, 0) != 0) return "training_mode=1";
        if (bn.GetAttribute(AttrNames.IsTest) is { Kind: AttributeKind.Int } isTest && isTest.AsInt() == 0) return "is_test=0: training mode";
        if (bn.GetInt(AttrNames.Spatial, 1) == 0) return "spatial=0 (per-activation statistics) is not folded";
        return null;
    }

    /// <summary>BatchNormalization as y = s·x + t per channel, or null with the reason.</summary>
    private static Affine? ReadAffine(Node bn, out string? problem)
    {
        string[] roles = ["scale", "bias", "mean", "var"];
        var data = new double[4][];
        for (var k = 0; k < 4; k++)
        {
            var v = bn.Input(BatchNormInput.Scale + k);
            var t = v?.Constant;
            problem = v == null ? $"{roles[k]} input is missing"
                : t == null ? $"{roles[k]} '{v.Name}' is not a constant"
                : t.Rank != 1 ? $"{roles[k]} '{v.Name}' has rank {t.Rank}, not 1"
                : !FloatTensors.IsSupported(t.DataType) ? $"{roles[k]} '{v.Name}' is {TensorDataTypes.OnnxName(t.DataType)}"
                : k > 0 && t.ElementCount != data[0].Length ? $"{roles[k]} '{v.Name}' has {t.ElementCount} elements, scale has {data[0].Length}"
                : null;
            if (problem != null) return null;
            data[k] = FloatTensors.ToDoubles(t!)!;
        }
        var epsilon = (double)bn.GetFloat(AttrNames.Epsilon, 1e-5f);
        var (gamma, beta, mean, variance) = (data[0], data[1], data[2], data[3]);
        var s = new double[gamma.Length];
        var shift = new double[gamma.Length];
        for (var c = 0; c < s.Length; c++)
        {
            s[c] = gamma[c] / Math.Sqrt(variance[c] + epsilon);
            shift[c] = beta[c] - mean[c] * s[c];
        }
        problem = null;
        return new Affine(s, shift);
    }

    private static Fold FoldConv(Node conv, Affine bn)
    {
        if (ReadWeights(conv, minRank: 3) is not { } w) return Fold.Fail(WeightProblem(conv, 3));
        var channels = w.Tensor.Dims[0];
        if (channels != bn.Scale.Length) return Fold.Fail($"Conv has {channels} output channels, BatchNormalization {bn.Scale.Length}");
        var inner = w.Values.Length / channels;
        return FoldChannels(conv, w, bn, i => (int)(i / inner));
    }

    private static Fold FoldConvTranspose(Node convT, Affine bn)
    {
        if (ReadWeights(convT, minRank: 3) is not { } w) return Fold.Fail(WeightProblem(convT, 3));
        var group = convT.GetInt(AttrNames.Group, 1);
        var (cin, coutPerGroup) = (w.Tensor.Dims[0], w.Tensor.Dims[1]);
        if (group < 1 || cin % group != 0) return Fold.Fail($"ConvTranspose group {group} does not divide its {cin} input channels");
        if (coutPerGroup * group != bn.Scale.Length)
        {
            return Fold.Fail($"ConvTranspose has {coutPerGroup * group} output channels, BatchNormalization {bn.Scale.Length}");
        }
        var inner = w.Values.Length / (cin * coutPerGroup);
        var cinPerGroup = cin / group;
        return FoldChannels(convT, w, bn, i =>
        {
            var ci = i / (coutPerGroup * inner);
            var j = i / inner % coutPerGroup;
            return (int)(ci / cinPerGroup * coutPerGroup + j);
        });
    }

    private static Fold FoldChannels(Node node, Weights w, Affine bn, Func<long, int> channelOf)
    {
        var scaled = new double[w.Values.Length];
        for (var i = 0; i < scaled.Length; i++) scaled[i] = w.Values[i] * bn.Scale[channelOf(i)];
        var channels = bn.Scale.Length;
        var bias = new double[channels];
        if (w.Bias != null)
        {
            if (w.Bias.Length != channels) return Fold.Fail($"{node.OpType} bias has {w.Bias.Length} elements, not {channels}");
            for (var c = 0; c < channels; c++) bias[c] = w.Bias[c] * bn.Scale[c] + bn.Shift[c];
        }
        else
        {
            Array.Copy(bn.Shift, bias, channels);
        }
        return new Fold(
            FloatTensors.Create("", w.Tensor.DataType, w.Tensor.DimsArray(), scaled),
            FloatTensors.Create("", w.Tensor.DataType, [channels], bias), null, null);
    }

    private static Fold FoldGemm(Node gemm, Affine bn)
    {
        if (ReadWeights(gemm, minRank: 2) is not { } w || w.Tensor.Rank != 2) return Fold.Fail(WeightProblem(gemm, 2));
        var transB = gemm.GetInt(AttrNames.TransB, 0) != 0;
        var (rows, cols) = (w.Tensor.Dims[0], w.Tensor.Dims[1]);
        var m = transB ? rows : cols;
        if (m != bn.Scale.Length) return Fold.Fail($"Gemm has {m} output columns, BatchNormalization {bn.Scale.Length} channels");
        var scaled = new double[w.Values.Length];
        for (var i = 0; i < scaled.Length; i++) scaled[i] = w.Values[i] * bn.Scale[(int)(transB ? i / cols : i % cols)];
        var weight = FloatTensors.Create("", w.Tensor.DataType, w.Tensor.DimsArray(), scaled);

        var beta = (double)gemm.GetFloat(AttrNames.Beta, 1f);
        if (w.Bias == null || beta == 0)
        {
            var setBeta = beta == 1 ? (float?)null : 1f;
            return new Fold(weight, FloatTensors.Create("", w.Tensor.DataType, [m], bn.Shift), setBeta, null);
        }
        var c = w.BiasTensor!;
        var cRows = c.Rank == 2 ? c.Dims[0] : 1;
        var cCols = c.Rank == 0 ? 1 : c.Dims[c.Rank - 1];
        if (c.Rank > 2 || (cCols != 1 && cCols != m)) return Fold.Fail($"Gemm C has shape [{string.Join(",", c.Dims)}], which does not broadcast to [N,{m}]");
        var folded = new double[cRows * m];
        for (var r = 0; r < cRows; r++)
        {
            for (var j = 0; j < m; j++)
            {
                var cij = w.Bias[r * cCols + (cCols == 1 ? 0 : j)];
                folded[r * m + j] = bn.Scale[j] * cij + bn.Shift[j] / beta;
            }
        }
        long[] dims = c.Rank == 2 ? [cRows, m] : [m];
        return new Fold(weight, FloatTensors.Create("", w.Tensor.DataType, dims, folded), null, null);
    }

    /// <summary>The producer's constant weight (input 1) and optional bias (input 2), as doubles; null when they do not qualify.</summary>
    private static Weights? ReadWeights(Node node, int minRank)
    {
        var w = node.Input(WeightInput)?.Constant;
        if (w == null || w.Rank < minRank || !FloatTensors.IsSupported(w.DataType) || w.ElementCount == 0) return null;
        var biasValue = node.Input(BiasInput);
        if (biasValue == null) return new Weights(w, FloatTensors.ToDoubles(w)!, null, null);
        var b = biasValue.Constant;
        if (b == null || b.DataType != w.DataType) return null;
        return new Weights(w, FloatTensors.ToDoubles(w)!, b, FloatTensors.ToDoubles(b)!);
    }

    private static string WeightProblem(Node node, int minRank)
    {
        var wv = node.Input(WeightInput);
        var w = wv?.Constant;
        if (wv == null) return $"{node.OpType} has no weight input";
        if (w == null) return $"{node.OpType} weight '{wv.Name}' is not a constant";
        if (!FloatTensors.IsSupported(w.DataType)) return $"{node.OpType} weight '{wv.Name}' is {TensorDataTypes.OnnxName(w.DataType)}; only float, float16 and double fold";
        if (w.Rank < minRank || (node.Is(OpTypes.Gemm) && w.Rank != 2)) return $"{node.OpType} weight '{wv.Name}' has rank {w.Rank}";
        if (w.ElementCount == 0) return $"{node.OpType} weight '{wv.Name}' is empty";
        var bv = node.Input(BiasInput)!;
        return bv.Constant == null
            ? $"{node.OpType} bias '{bv.Name}' is not a constant"
            : $"{node.OpType} bias '{bv.Name}' is {TensorDataTypes.OnnxName(bv.Constant.DataType)}, the weight {TensorDataTypes.OnnxName(w.DataType)}";
    }

    /// <summary>A BatchNormalization as y = Scale·x + Shift per channel.</summary>
    private sealed record Affine(double[] Scale, double[] Shift);

    private sealed record Weights(Tensor Tensor, double[] Values, Tensor? BiasTensor, double[]? Bias);

    /// <summary>The folded weight and bias, a new Gemm beta if it must change, or the reason it cannot fold.</summary>
    private sealed record Fold(Tensor? Weight, Tensor? Bias, float? GemmBeta, string? Problem)
    {
        public static Fold Fail(string problem) => new(null, null, null, problem);
    }
}
