using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using MathNet.Numerics.LinearAlgebra;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Factorization;

/// <summary>
/// Low-rank factorization of Gemm, MatMul and 1×1 Conv weights by a truncated SVD, √Σ split between the two factors.
/// <para>MatMul: <c>Y = X·W</c>, W [n, m] → <c>Y = (X·P)·Q</c> with P = U_r·√Σ_r [n, r] and Q = √Σ_r·V_rᵀ [r, m].
/// Gemm: <c>Y = α·op(A)·op(B) + β·C</c>, op(B) = W [K, N] ≈ P·Q → <c>H = Gemm(A, P, transA)</c>, <c>Y = Gemm(H, Q, C, α, β)</c>;
/// both factors keep the original transB layout (with transB = 1 they are stored transposed), the bias and α, β go to the second.
/// Conv 1×1 (group 1): W [K, C, 1, 1] as a K×C matrix ≈ P·Q → a 1×1 conv C→r with weight Q and the original strides, pads
/// and dilations, then a 1×1 conv r→K with weight P and the bias.</para>
/// <para>Rank: the smallest r keeping <see cref="FactorizeOptions.Energy"/> of ‖W‖²_F = Σσ², or ⌈RankRatio·min(n, m)⌉, rounded
/// up to <see cref="FactorizeOptions.RankMultiple"/>. The layer is skipped, with the reason, unless r·(n + m) &lt; n·m (the
/// factors then save parameters and MACs alike). Matrices whose smaller side is at least
/// <see cref="FactorizeOptions.RandomizedMinDim"/> use a randomized SVD sketching only the ranks that could save (seeded per
/// layer, deterministic); others a dense SVD. Exact when W has rank ≤ r; lossy otherwise, by ‖W − Ŵ‖_F/‖W‖_F as reported.</para>
/// Weights must be constant float, float16 or double tensors read by this node alone; MatMul weights must be 2-D (input B).
/// </summary>
public sealed class FactorizeSvdPass(FactorizeSvdOptions options) : FactorizationPass<FactorizeSvdOptions>(options)
{
    public const string PassId = "factorize-svd";

    public FactorizeSvdPass() : this(new FactorizeSvdOptions()) { }

    public override string Id => PassId;
    public override string Description => "Splits Gemm/MatMul/1×1 Conv weights into two low-rank factors by a truncated SVD (rank by energy or ratio)";

    /// <summary>The op types of IncludeOpTypes (all three when empty): nodes of other types are not considered, not even reported.</summary>
    private protected override bool Handles(Node node) => (Options.IncludeOpTypes.Count > 0 ? Options.IncludeOpTypes : FactorizeSvdOptions.SvdOpTypes).Contains(node.OpType);

    private protected override (Func<int, LayerOutcome>? Work, string? Skip) Plan(LayerInput layer)
    {
        var node = layer.Node;
        var dims = layer.Dims;
        switch (node.OpType)
        {
            case OpTypes.MatMul:
                if (dims.Length != 2) return (null, $"weight is {dims.Length}-D; only 2-D MatMul weights are factorized");
                return (seed => Factorize(layer, Factors.Matrix(layer.Values, (int)dims[0], (int)dims[1]), seed, ApplyMatMul), null);
            case OpTypes.Gemm:
                if (dims.Length != 2) return (null, $"weight is {dims.Length}-D, not 2-D");
                var transB = node.GetInt(AttrNames.TransB, 0) == 1;
                var b = Factors.Matrix(layer.Values, (int)dims[0], (int)dims[1]);
                return (seed => Factorize(layer, transB ? b.Transpose() : b, seed, ApplyGemm), null);
            default:
                if (node.GetInt(AttrNames.Group, 1) is var group and not 1) return (null, $"grouped conv (group {group}); only group 1 is factorized");
                if (dims.Length < 3) return (null, $"weight is {dims.Length}-D, not a conv weight");
                if (dims.Skip(2).Any(k => k != 1)) return (null, $"kernel {string.Join("×", dims.Skip(2))} is not 1×1: factorize-conv handles spatial kernels");
                return (seed => Factorize(layer, Factors.Matrix(layer.Values, (int)dims[0], (int)dims[1]), seed, ApplyConv), null);
        }
    }

    /// <summary>Truncated SVD of <paramref name="w"/> (rows × cols) into P [rows, r], Q [r, cols], each rounded to the weight type.</summary>
    private LayerOutcome Factorize(LayerInput layer, Matrix<double> w, int seed, Func<LayerInput, double[], double[], int, GraphEditor, IReadOnlyList<Node>> apply)
    {
        var (n, m) = (w.RowCount, w.ColumnCount);
        var full = Math.Min(n, m);
        var maxSaving = Factors.LargestSaving(full, Options.RankMultiple, r => r * (n + (long)m) < (long)n * m);
        if (maxSaving == 0) return LayerOutcome.Skipped($"{n}×{m}: even rank {Options.RankMultiple} (RankMultiple) saves nothing: r·(n+m) ≥ n·m = {(long)n * m}");
        var wanted = Options.RankRatio is { } ratio ? Options.RoundRank((int)Math.Ceiling(ratio * full - 1e-9), full) : maxSaving;
        if (wanted > maxSaving) return NoSaving(n, m, wanted, $"RankRatio {Options.RankRatio}");
        // Σ w² directly: MathNet's FrobeniusNorm forms A·Aᵀ (2.4 s for a 3072×768 weight, more than the randomized SVD).
        var total = Unfolding.SquaredNorm(layer.Values);
        var spectrum = LowRank.Svd(w, wanted, Options, seed);
        var squares = spectrum.Squares;
        var rank = Options.ChooseRank(squares, total, full);
        if (rank == null) return LayerOutcome.Skipped($"{n}×{m}: Energy {Options.Energy} needs more than rank {squares.Length}, the most that could save (r·(n+m) < n·m needs r ≤ {maxSaving})");
        if (rank > maxSaving) return NoSaving(n, m, rank.Value, $"Energy {Options.Energy}");
        var r = Math.Min(rank.Value, spectrum.S.Length);
        var (left, right) = spectrum.Split(r);
        var p = Factors.Round(left, layer.DataType);
        var q = Factors.Round(right, layer.DataType);
        var error = Unfolding.RelativeError(w.ToRowMajorArray(), LowRank.Dots(p, n, r, Factors.Matrix(q, r, m)).ToRowMajorArray());
        var kept = squares.Take(r).Sum();
        return LayerOutcome.Done("Svd", [r], r * ((long)n + m), error, Factors.EnergyNote(kept, total), edit => apply(layer, p, q, r, edit));
    }

    private LayerOutcome NoSaving(int n, int m, int rank, string by) =>
        LayerOutcome.Skipped($"{n}×{m}: rank {rank} ({by}, RankMultiple {Options.RankMultiple}) would not save: r·(n+m) = {rank * ((long)n + m):N0} ≥ n·m = {(long)n * m:N0}");

    /// <summary>Y = X·W → Y = (X·P)·Q.</summary>
    private static IReadOnlyList<Node> ApplyMatMul(LayerInput layer, double[] p, double[] q, int r, GraphEditor edit)
    {
        var node = layer.Node;
        var (n, m) = (layer.Dims[0], layer.Dims[1]);
        var first = edit.AddNode(node, "svd_first", OpTypes.MatMul, [node.Input(0), edit.Constant(node, "svd_p", Factors.Tensor(layer.DataType, [n, r], p))]);
        var second = edit.AddNode(node, "svd_second", OpTypes.MatMul, [first.Output(0), edit.Constant(node, "svd_q", Factors.Tensor(layer.DataType, [r, m], q))]);
        edit.Replace(node, second.Output(0));
        return [first, second];
    }

    /// <summary>Y = α·op(A)·W + β·C → H = op(A)·P, Y = α·H·Q + β·C, the factors stored as op(B) was (transposed when transB = 1).</summary>
    private static IReadOnlyList<Node> ApplyGemm(LayerInput layer, double[] p, double[] q, int r, GraphEditor edit)
    {
        var node = layer.Node;
        var transB = node.GetInt(AttrNames.TransB, 0) == 1;
        var (k, n) = transB ? (layer.Dims[1], layer.Dims[0]) : (layer.Dims[0], layer.Dims[1]);
        var pt = transB ? Factors.Tensor(layer.DataType, [r, k], Transpose(p, (int)k, r)) : Factors.Tensor(layer.DataType, [k, r], p);
        var qt = transB ? Factors.Tensor(layer.DataType, [n, r], Transpose(q, r, (int)n)) : Factors.Tensor(layer.DataType, [r, n], q);
        var trans = Attribute.Int(AttrNames.TransB, transB ? 1 : 0);
        var first = edit.AddNode(node, "svd_first", OpTypes.Gemm, [node.Input(GemmInput.A), edit.Constant(node, "svd_p", pt)],
            attributes: [Attribute.Int(AttrNames.TransA, node.GetInt(AttrNames.TransA, 0)), trans]);
        var secondInputs = new List<Value?> { first.Output(0), edit.Constant(node, "svd_q", qt) };
        if (node.Input(GemmInput.C) is { } c) secondInputs.Add(c);
        var second = edit.AddNode(node, "svd_second", OpTypes.Gemm, secondInputs,
            attributes: [Attribute.Float(AttrNames.Alpha, node.GetFloat(AttrNames.Alpha, 1f)), Attribute.Float(AttrNames.Beta, node.GetFloat(AttrNames.Beta, 1f)), trans]);
        edit.Replace(node, second.Output(0));
        return [first, second];
    }

    /// <summary>Conv 1×1 W [K, C] → conv 1×1 C→r (weight Q, original strides/pads/dilations) → conv 1×1 r→K (weight P, bias).</summary>
    private static IReadOnlyList<Node> ApplyConv(LayerInput layer, double[] p, double[] q, int r, GraphEditor edit)
    {
        var node = layer.Node;
        var (k, c) = (layer.Dims[0], layer.Dims[1]);
        var ones = layer.Dims.Skip(2).ToArray();
        var geometry = ConvGeometry.Of(node, layer.Dims);
        var first = edit.AddNode(node, "svd_first", OpTypes.Conv, [node.Input(ConvInput.X), edit.Constant(node, "svd_q", Factors.Tensor(layer.DataType, [r, c, .. ones], q))],
            attributes: geometry.Attributes());
        var secondInputs = new List<Value?> { first.Output(0), edit.Constant(node, "svd_p", Factors.Tensor(layer.DataType, [k, r, .. ones], p)) };
        if (node.Input(ConvInput.B) is { } bias) secondInputs.Add(bias);
        var second = edit.AddNode(node, "svd_second", OpTypes.Conv, secondInputs, attributes: ConvGeometry.Pointwise(ones.Length));
        edit.Replace(node, second.Output(0));
        return [first, second];
    }

    private static double[] Transpose(double[] a, int rows, int cols)
    {
        var t = new double[a.Length];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < cols; j++) t[(long)j * rows + i] = a[(long)i * cols + j];
        }
        return t;
    }
}
