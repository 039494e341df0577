using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using MathNet.Numerics.LinearAlgebra;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Factorization;

/// <summary>
/// Low-rank factorization of k×k convolutions (2-D, group 1, constant weight W [K, C, k_h, k_w]) into a chain of smaller convs.
/// <para><see cref="ConvFactorization.Tucker2"/>: W ≈ G ×₀ U_out ×₁ U_in → <c>Conv1×1(C→r_in, U_inᵀ)</c>,
/// <c>Conv k×k(r_in→r_out, G)</c> with the original strides, pads, dilations and auto_pad, <c>Conv1×1(r_out→K, U_out) + bias</c>
/// (a mode kept at full size, r_in = C or r_out = K, has the identity as factor and no 1×1 conv).
/// U_out and U_in are the leading left singular vectors of the mode-0 [K, C·k²] and mode-1 [C, K·k²] unfoldings (HOSVD), each
/// rank keeping <see cref="FactorizeOptions.Energy"/> of its unfolding's energy, then refined by
/// <see cref="FactorizeConvOptions.HooiIterations"/> HOOI sweeps; G = W ×₀ U_outᵀ ×₁ U_inᵀ.</para>
/// <para><see cref="ConvFactorization.SpatialSvd"/> (AIMET's spatial SVD): W reshaped to M [C·k_h, K·k_w] ≈ P·Q by a truncated SVD →
/// <c>Conv k_h×1(C→r, P)</c> with the height stride/pads/dilation, then <c>Conv 1×k_w(r→K, Q) + bias</c> with the width ones.</para>
/// <para><see cref="ConvFactorization.DepthwiseSeparable"/>: each input channel's bank W[:, c] (K × k_h·k_w) ≈ Σ_{i&lt;m} σ_i·u_i·v_iᵀ →
/// <c>Conv k×k(C→C·m, group C, √σ·v)</c> with the original geometry, then <c>Conv1×1(C·m→K, √σ·u) + bias</c>; m is the
/// smallest count of filters per channel keeping Energy of ‖W‖² over all channels (or ⌈RankRatio·min(K, k²)⌉, not rounded to
/// RankMultiple). Exact with m = 1 when every bank has rank 1, i.e. W[k, c] = p[k, c]·d[c].</para>
/// <para><see cref="ConvFactorization.Cp"/>: rank-R CP W ≈ Σ_t a_t ∘ b_t ∘ h_t ∘ w_t by alternating least squares (HOSVD start, seeded random
/// columns beyond a mode's size) → <c>Conv1×1(C→R)</c>, depthwise <c>k_h×1</c>, depthwise <c>1×k_w</c>, <c>Conv1×1(R→K) + bias</c>;
/// R is the smallest multiple of RankMultiple whose fit 1 − ‖W − Ŵ‖²/‖W‖² reaches Energy (bisection), or from RankRatio of min(K, C).</para>
/// A layer is skipped, with the reason, unless the factors have fewer parameters and (when the shapes are known; set
/// InputShapes for dynamic inputs) fewer MACs than the conv. 1×1 convs are left to <see cref="FactorizeSvdPass"/>. Lossy (exact
/// when W has the assumed structure at the chosen ranks).
/// </summary>
public sealed class FactorizeConvPass(FactorizeConvOptions options) : FactorizationPass<FactorizeConvOptions>(options)
{
    public const string PassId = "factorize-conv";

    public FactorizeConvPass() : this(new FactorizeConvOptions()) { }

    public override string Id => PassId;
    public override string Description => "Splits k×k Conv weights into chains of smaller convs: Tucker-2, spatial SVD, depthwise-separable or CP";

    private protected override bool Handles(Node node) => node.OpType == OpTypes.Conv;

    private protected override (Func<int, LayerOutcome>? Work, string? Skip) Plan(LayerInput layer)
    {
        var node = layer.Node;
        if (node.GetInt(AttrNames.Group, 1) is var group and not 1) return (null, $"grouped conv (group {group}); only group 1 is factorized");
        if (layer.Dims.Length != 4) return (null, $"weight is {layer.Dims.Length}-D; only 2-D convs (4-D weights) are factorized");
        if (layer.Dims[2] * layer.Dims[3] == 1) return (null, "1×1 conv: factorize-svd handles pointwise convs");
        var shape = new ConvShape(layer);
        return Options.Method switch
        {
            ConvFactorization.Tucker2 => (_ => Tucker2(layer, shape), null),
            ConvFactorization.SpatialSvd => (seed => SpatialSvd(layer, shape, seed), null),
            ConvFactorization.DepthwiseSeparable => (_ => DepthwiseSeparable(layer, shape), null),
            _ => (seed => Cp(layer, shape, seed), null),
        };
    }

    private LayerOutcome Tucker2(LayerInput layer, ConvShape s)
    {
        var dims = s.Dims;
        var total = Unfolding.SquaredNorm(layer.Values);
        var outSpectrum = LowRank.Dense(Unfolding.Unfold(layer.Values, dims, 0));
        var inSpectrum = LowRank.Dense(Unfolding.Unfold(layer.Values, dims, 1));
        var rOut = Math.Min(Options.ChooseRank(outSpectrum.Squares, total, s.K)!.Value, outSpectrum.S.Length);
        var rIn = Math.Min(Options.ChooseRank(inSpectrum.Squares, total, s.C)!.Value, inSpectrum.S.Length);
        // The core's unfoldings bound each rank by the other one times the kernel area (HOOI's SVDs have no more columns).
        (rOut, rIn) = (Math.Min(rOut, rIn * s.Area), Math.Min(rIn, rOut * s.Area));
        // A mode kept at full size needs no 1×1 conv: its factor is the identity (Tucker-1 on the other mode).
        var (reduceIn, reduceOut) = (rIn < s.C, rOut < s.K);
        var parameters = (reduceIn ? (long)s.C * rIn : 0) + (long)rIn * rOut * s.Area + (reduceOut ? (long)rOut * s.K : 0);
        long? macs = s.HasPixels ? (reduceIn ? s.InPixels * s.C * rIn : 0) + s.OutPixels * rIn * rOut * s.Area + (reduceOut ? s.OutPixels * rOut * s.K : 0) : null;
        if (s.NoSaving(parameters, macs) is { } why) return LayerOutcome.Skipped($"Tucker-2 ranks in {rIn}, out {rOut} would not save: {why}");

        var uOut = reduceOut ? outSpectrum.U.SubMatrix(0, s.K, 0, rOut) : Matrix<double>.Build.DenseIdentity(s.K);
        var uIn = reduceIn ? inSpectrum.U.SubMatrix(0, s.C, 0, rIn) : Matrix<double>.Build.DenseIdentity(s.C);
        for (var i = 0; i < Options.HooiIterations && reduceIn && reduceOut; i++)
        {
            var (y, yd) = Unfolding.ModeProduct(layer.Values, dims, 1, uIn.Transpose());
            uOut = LowRank.Dense(Unfolding.Unfold(y, yd, 0)).U.SubMatrix(0, s.K, 0, rOut);
            (y, yd) = Unfolding.ModeProduct(layer.Values, dims, 0, uOut.Transpose());
            uIn = LowRank.Dense(Unfolding.Unfold(y, yd, 1)).U.SubMatrix(0, s.C, 0, rIn);
        }
        var (g0, g0d) = Unfolding.ModeProduct(layer.Values, dims, 0, uOut.Transpose());
        var (core, coreDims) = Unfolding.ModeProduct(g0, g0d, 1, uIn.Transpose());

        var type = layer.DataType;
        var first = Factors.Round(uIn.Transpose(), type);
        var middle = Factors.Round(core, type);
        var last = Factors.Round(uOut, type);
        var (w1, w1d) = Unfolding.ModeProduct(middle, coreDims, 0, Factors.Matrix(last, s.K, rOut));
        var (rebuilt, _) = Unfolding.ModeProduct(w1, w1d, 1, Factors.Matrix(first, rIn, s.C).Transpose());
        var error = Unfolding.RelativeError(layer.Values, rebuilt);
        var note = $" (in×out; energy {100 * outSpectrum.Squares.Take(rOut).Sum() / total:0.0}% out, {100 * inSpectrum.Squares.Take(rIn).Sum() / total:0.0}% in)";
        return LayerOutcome.Done("Tucker2", [rIn, rOut], parameters, error, note, edit =>
        {
            var node = layer.Node;
            var geometry = ConvGeometry.Of(node, layer.Dims);
            var nodes = new List<Node>();
            var x = node.Input(ConvInput.X)!;
            if (reduceIn)
            {
                nodes.Add(edit.AddNode(node, "tucker_in", OpTypes.Conv, [x, edit.Constant(node, "tucker_in_w", Factors.Tensor(type, [rIn, s.C, 1, 1], first))],
                    attributes: ConvGeometry.Pointwise(2)));
                x = nodes[^1].Output(0);
            }
            var coreWeight = edit.Constant(node, "tucker_core_w", Factors.Tensor(type, [rOut, rIn, s.Kh, s.Kw], middle));
            nodes.Add(edit.AddNode(node, "tucker_core", OpTypes.Conv, reduceOut ? [x, coreWeight] : WithBias(node, x, coreWeight), attributes: geometry.Attributes()));
            if (reduceOut)
            {
                nodes.Add(edit.AddNode(node, "tucker_out", OpTypes.Conv, WithBias(node, nodes[^1].Output(0), edit.Constant(node, "tucker_out_w", Factors.Tensor(type, [s.K, rOut, 1, 1], last))),
                    attributes: ConvGeometry.Pointwise(2)));
            }
            edit.Replace(node, nodes[^1].Output(0));
            return nodes;
        });
    }

    private LayerOutcome SpatialSvd(LayerInput layer, ConvShape s, int seed)
    {
        var (rows, cols) = (s.C * s.Kh, s.K * s.Kw);
        var m = Matrix<double>.Build.Dense(rows, cols);
        for (var k = 0; k < s.K; k++)
        {
            for (var c = 0; c < s.C; c++)
            {
                for (var i = 0; i < s.Kh; i++)
                {
                    for (var j = 0; j < s.Kw; j++) m[c * s.Kh + i, k * s.Kw + j] = layer.Values[s.Index(k, c, i, j)];
                }
            }
        }
        var full = Math.Min(rows, cols);
        long Parameters(long r) => r * (rows + (long)cols);
        long? Macs(long r) => s.HasPixels ? s.MidPixels * r * s.C * s.Kh + s.OutPixels * s.K * r * s.Kw : null;
        var maxSaving = Factors.LargestSaving(full, Options.RankMultiple, r => s.NoSaving(Parameters(r), Macs(r)) == null);
        if (maxSaving == 0) return LayerOutcome.Skipped($"spatial SVD of {rows}×{cols}: even rank {Options.RankMultiple} (RankMultiple) would not save: {s.NoSaving(Parameters(Options.RankMultiple), Macs(Options.RankMultiple))}");
        var total = Unfolding.SquaredNorm(layer.Values);
        var wanted = Options.RankRatio is { } ratio ? Options.RoundRank((int)Math.Ceiling(ratio * full - 1e-9), full) : maxSaving;
        if (wanted > maxSaving) return LayerOutcome.Skipped($"spatial SVD rank {wanted} (RankRatio {Options.RankRatio:0.###}) would not save: {s.NoSaving(Parameters(wanted), Macs(wanted))}");
        var spectrum = LowRank.Svd(m, wanted, Options, seed);
        var rank = Options.ChooseRank(spectrum.Squares, total, full);
        if (rank == null || rank > maxSaving)
        {
            var needed = rank is { } n ? $"rank {n}" : $"more than rank {spectrum.S.Length}";
            return LayerOutcome.Skipped($"spatial SVD: Energy {Options.Energy} needs {needed}; ranks above {maxSaving} would not save parameters or MACs");
        }
        var r = Math.Min(rank.Value, spectrum.S.Length);
        var (left, right) = spectrum.Split(r);
        var type = layer.DataType;
        var p = Factors.Round(left, type);
        var q = Factors.Round(right, type);
        var rebuilt = Factors.Matrix(p, rows, r).Multiply(Factors.Matrix(q, r, cols));
        var error = Unfolding.RelativeError(m.ToRowMajorArray(), rebuilt.ToRowMajorArray());
        // conv1 [r, C, kh, 1]: V1[t, c, i] = P[(c, i), t]; conv2 [K, r, 1, kw]: V2[k, t, j] = Q[t, (k, j)].
        var v1 = new double[r * rows];
        for (var t = 0; t < r; t++)
        {
            for (var ci = 0; ci < rows; ci++) v1[t * rows + ci] = p[ci * r + t];
        }
        var v2 = new double[s.K * r * s.Kw];
        for (var k = 0; k < s.K; k++)
        {
            for (var t = 0; t < r; t++)
            {
                for (var j = 0; j < s.Kw; j++) v2[(k * r + t) * s.Kw + j] = q[t * cols + k * s.Kw + j];
            }
        }
        var note = Factors.EnergyNote(spectrum.Squares.Take(r).Sum(), total);
        return LayerOutcome.Done("SpatialSvd", [r], Parameters(r), error, note, edit =>
        {
            var node = layer.Node;
            var geometry = ConvGeometry.Of(node, layer.Dims);
            var a = edit.AddNode(node, "spatial_h", OpTypes.Conv, [node.Input(ConvInput.X), edit.Constant(node, "spatial_h_w", Factors.Tensor(type, [r, s.C, s.Kh, 1], v1))],
                attributes: geometry.AlongAxis(0));
            var b = edit.AddNode(node, "spatial_w", OpTypes.Conv, WithBias(node, a.Output(0), edit.Constant(node, "spatial_w_w", Factors.Tensor(type, [s.K, r, 1, s.Kw], v2))),
                attributes: geometry.AlongAxis(1));
            edit.Replace(node, b.Output(0));
            return [a, b];
        });
    }

    private LayerOutcome DepthwiseSeparable(LayerInput layer, ConvShape s)
    {
        var area = s.Area;
        var banks = new Spectrum[s.C];
        for (var c = 0; c < s.C; c++)
        {
            var bank = Matrix<double>.Build.Dense(s.K, area, (k, ij) => layer.Values[s.Index(k, c, ij / s.Kw, ij % s.Kw)]);
            banks[c] = LowRank.Dense(bank);
        }
        var full = Math.Min(s.K, area);
        var total = Unfolding.SquaredNorm(layer.Values);
        // Energy pooled over channels: kept(m) = Σ_c Σ_{i<m} σ²_{c,i}.
        var byFilter = Enumerable.Range(0, full).Select(i => banks.Sum(b => i < b.S.Length ? b.S[i] * b.S[i] : 0)).ToArray();
        int perChannel;
        if (Options.RankRatio is { } ratio) perChannel = Math.Max(1, (int)Math.Ceiling(ratio * full - 1e-9));
        else
        {
            perChannel = full;
            var sum = 0.0;
            for (var i = 0; i < full; i++)
            {
                sum += byFilter[i];
                if (sum >= Options.Energy * total * (1 - 1e-12))
                {
                    perChannel = i + 1;
                    break;
                }
            }
        }
        var mid = s.C * perChannel;
        var parameters = (long)mid * area + (long)s.K * mid;
        long? macs = s.HasPixels ? s.OutPixels * mid * area + s.OutPixels * s.K * mid : null;
        if (s.NoSaving(parameters, macs) is { } why) return LayerOutcome.Skipped($"depthwise-separable with {perChannel} filters per channel would not save: {why}");

        var depthwise = new double[mid * area];
        var pointwise = new double[s.K * mid];
        for (var c = 0; c < s.C; c++)
        {
            var b = banks[c];
            for (var i = 0; i < perChannel; i++)
            {
                var root = i < b.S.Length ? Math.Sqrt(b.S[i]) : 0;
                var o = c * perChannel + i;
                for (var ij = 0; ij < area; ij++) depthwise[o * area + ij] = i < b.S.Length ? root * b.V[ij, i] : 0;
                for (var k = 0; k < s.K; k++) pointwise[k * mid + o] = i < b.S.Length ? root * b.U[k, i] : 0;
            }
        }
        var type = layer.DataType;
        depthwise = Factors.Round(depthwise, type);
        pointwise = Factors.Round(pointwise, type);
        var rebuilt = new double[layer.Values.Length];
        for (var k = 0; k < s.K; k++)
        {
            for (var c = 0; c < s.C; c++)
            {
                for (var ij = 0; ij < area; ij++)
                {
                    var sum = 0.0;
                    for (var i = 0; i < perChannel; i++) sum += pointwise[k * mid + c * perChannel + i] * depthwise[(c * perChannel + i) * area + ij];
                    rebuilt[s.Index(k, c, ij / s.Kw, ij % s.Kw)] = sum;
                }
            }
        }
        var error = Unfolding.RelativeError(layer.Values, rebuilt);
        var note = $" per channel{Factors.EnergyNote(byFilter.Take(perChannel).Sum(), total)}";
        return LayerOutcome.Done("DepthwiseSeparable", [perChannel], parameters, error, note, edit =>
        {
            var node = layer.Node;
            var geometry = ConvGeometry.Of(node, layer.Dims);
            var a = edit.AddNode(node, "depthwise", OpTypes.Conv, [node.Input(ConvInput.X), edit.Constant(node, "depthwise_w", Factors.Tensor(type, [mid, 1, s.Kh, s.Kw], depthwise))],
                attributes: [.. geometry.Attributes(), Attribute.Int(AttrNames.Group, s.C)]);
            var b = edit.AddNode(node, "pointwise", OpTypes.Conv, WithBias(node, a.Output(0), edit.Constant(node, "pointwise_w", Factors.Tensor(type, [s.K, mid, 1, 1], pointwise))),
                attributes: ConvGeometry.Pointwise(2));
            edit.Replace(node, b.Output(0));
            return [a, b];
        });
    }

    private LayerOutcome Cp(LayerInput layer, ConvShape s, int seed)
    {
        long Parameters(long r) => r * (s.C + s.Kh + s.Kw + (long)s.K);
        long? Macs(long r) => s.HasPixels ? s.InPixels * s.C * r + s.MidPixels * r * s.Kh + s.OutPixels * r * s.Kw + s.OutPixels * r * s.K : null;
        var full = Math.Max(s.K, s.C) * Math.Max(s.Kh, s.Kw);
        var maxSaving = Factors.LargestSaving(full, Options.RankMultiple, r => s.NoSaving(Parameters(r), Macs(r)) == null);
        if (maxSaving == 0) return LayerOutcome.Skipped($"CP: even rank {Options.RankMultiple} (RankMultiple) would not save: {s.NoSaving(Parameters(Options.RankMultiple), Macs(Options.RankMultiple))}");
        var total = Unfolding.SquaredNorm(layer.Values);
        CpDecomposition.Result? best = null;
        if (Options.RankRatio is { } ratio)
        {
            var rank = Options.RoundRank((int)Math.Ceiling(ratio * Math.Min(s.K, s.C) - 1e-9), full);
            if (rank > maxSaving) return LayerOutcome.Skipped($"CP rank {rank} (RankRatio {ratio:0.###}) would not save: {s.NoSaving(Parameters(rank), Macs(rank))}");
            best = CpDecomposition.Fit(layer.Values, s.Dims, rank, Options.CpIterations, seed, layer.DataType);
        }
        else
        {
            // Bisection over multiples of RankMultiple for the smallest rank whose fit reaches Energy.
            int lo = 1, hi = maxSaving / Options.RankMultiple;
            while (lo <= hi)
            {
                var midStep = (lo + hi) / 2;
                var fit = CpDecomposition.Fit(layer.Values, s.Dims, midStep * Options.RankMultiple, Options.CpIterations, seed, layer.DataType);
                if (1 - fit.RelativeError * fit.RelativeError >= Options.Energy)
                {
                    best = fit;
                    hi = midStep - 1;
                }
                else lo = midStep + 1;
            }
            if (best == null) return LayerOutcome.Skipped($"CP: Energy {Options.Energy} is not reached by rank {maxSaving}, the largest that would save parameters and MACs");
        }
        var cp = best;
        var r = cp.Rank;
        var type = layer.DataType;
        var note = $" (fit {100 * (1 - cp.RelativeError * cp.RelativeError):0.0}%, {cp.Iterations} ALS sweeps)";
        return LayerOutcome.Done("Cp", [r], Parameters(r), cp.RelativeError, note, edit =>
        {
            var node = layer.Node;
            var geometry = ConvGeometry.Of(node, layer.Dims);
            var a = edit.AddNode(node, "cp_in", OpTypes.Conv, [node.Input(ConvInput.X), edit.Constant(node, "cp_in_w", Factors.Tensor(type, [r, s.C, 1, 1], cp.Transposed(1)))],
                attributes: ConvGeometry.Pointwise(2));
            var b = edit.AddNode(node, "cp_h", OpTypes.Conv, [a.Output(0), edit.Constant(node, "cp_h_w", Factors.Tensor(type, [r, 1, s.Kh, 1], cp.Transposed(2)))],
                attributes: [.. geometry.AlongAxis(0), Attribute.Int(AttrNames.Group, r)]);
            var c = edit.AddNode(node, "cp_w", OpTypes.Conv, [b.Output(0), edit.Constant(node, "cp_w_w", Factors.Tensor(type, [r, 1, 1, s.Kw], cp.Transposed(3)))],
                attributes: [.. geometry.AlongAxis(1), Attribute.Int(AttrNames.Group, r)]);
            var d = edit.AddNode(node, "cp_out", OpTypes.Conv, WithBias(node, c.Output(0), edit.Constant(node, "cp_out_w", Factors.Tensor(type, [s.K, r, 1, 1], cp.Factor(0)))),
                attributes: ConvGeometry.Pointwise(2));
            edit.Replace(node, d.Output(0));
            return [a, b, c, d];
        });
    }

    private static List<Value?> WithBias(Node conv, Value x, Value weight)
    {
        var inputs = new List<Value?> { x, weight };
        if (conv.Input(ConvInput.B) is { } bias) inputs.Add(bias);
        return inputs;
    }

    /// <summary>The sizes of a 2-D conv layer and its pixel counts (batch included) where the shapes are known.</summary>
    private sealed class ConvShape(LayerInput layer)
    {
        public int K { get; } = (int)layer.Dims[0];
        public int C { get; } = (int)layer.Dims[1];
        public int Kh { get; } = (int)layer.Dims[2];
        public int Kw { get; } = (int)layer.Dims[3];
        public int Area => Kh * Kw;
        public int[] Dims => [K, C, Kh, Kw];
        public long ParametersBefore { get; } = layer.Tensor.ElementCount;
        public long? MacsBefore { get; } = layer.Macs;

        public bool HasPixels => layer.Input is { Length: 4 } && layer.Output is { Length: 4 } && MacsBefore != null;
        public long InPixels => layer.Input![0] * layer.Input[2] * layer.Input[3];
        public long OutPixels => layer.Output![0] * layer.Output[2] * layer.Output[3];

        /// <summary>Pixels between the height-only and the width-only conv of the separable schemes: output height × input width.</summary>
        public long MidPixels => layer.Output![0] * layer.Output[2] * layer.Input![3];

        public int Index(int k, int c, int i, int j) => ((k * C + c) * Kh + i) * Kw + j;

        /// <summary>Why factors of <paramref name="parameters"/> weights and <paramref name="macs"/> MACs would not save; null when they would.</summary>
        public string? NoSaving(long parameters, long? macs) =>
            parameters >= ParametersBefore ? $"{parameters:N0} ≥ {ParametersBefore:N0} weight parameters"
            : macs is { } m && MacsBefore is { } b && m >= b ? $"{m:N0} ≥ {b:N0} MACs"
            : null;
    }
}
