using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;

namespace EdgeOpt.Passes.Factorization;

/// <summary>
/// What the factorization passes share: how ranks are chosen (<see cref="Energy"/> or <see cref="RankRatio"/>, rounded up to
/// <see cref="RankMultiple"/>), which nodes are considered, the randomized SVD's settings, and the shapes for MAC counts.
/// </summary>
public abstract record FactorizeOptions : PassOptions
{
    [Option("Share of the weight's energy ‖W‖²_F the kept singular values (per mode for Tucker-2) must hold; sets the rank unless RankRatio is set")]
    public double Energy { get; init; } = 0.9;

    [Option("When set: rank = ⌈RankRatio · full rank⌉ (full rank = the smaller matrix side, or the mode size) instead of choosing it by Energy")]
    public double? RankRatio { get; init; }

    [Option("Round every rank up to a multiple of this (e.g. 8 for SIMD-friendly widths), capped at the full rank")]
    public int RankMultiple { get; init; } = 8;

    [Option("Matrices whose smaller side is at least this use a randomized SVD (Gaussian range finder); smaller ones a dense SVD")]
    public int RandomizedMinDim { get; init; } = 512;

    [Option("Randomized SVD: extra sketch columns beyond the largest rank that could be kept")]
    public int Oversampling { get; init; } = 10;

    [Option("Randomized SVD: power iterations (each one sharpens the range estimate of slowly decaying spectra)")]
    public int PowerIterations { get; init; } = 2;

    [Option("Randomized SVD and CP initialization: seed of the Gaussian draws, mixed with a hash of each layer's name, so runs are deterministic")]
    public int Seed { get; init; } = 20240601;

    [Option("Layers factorized at once (Parallel.For over layers; results are applied in graph order); -1: one per core")]
    public int MaxParallelism { get; init; } = -1;

    [Option("Op types never factorized")]
    public IReadOnlyList<string> ExcludeOpTypes { get; init; } = [];

    [Option("When non-empty, only nodes with these names (first output name for unnamed nodes) are factorized")]
    public IReadOnlyList<string> IncludeNodes { get; init; } = [];

    [Option("Node names never factorized")]
    public IReadOnlyList<string> ExcludeNodes { get; init; } = [];

    [Option("Concrete shapes for dynamic graph inputs (name → dims), for MAC counts and the MAC-saving check of convs")]
    public IReadOnlyDictionary<string, long[]> InputShapes { get; init; } = new Dictionary<string, long[]>();

    [Option("Refit each layer's last factor and its bias by least squares on calibration activations so the layer's outputs match the original model's; applies when the pipeline provides activations (PassContext.Activations)")]
    public bool Refit { get; init; } = true;

    [Option("Refit: output positions (Conv) or input rows (Gemm/MatMul) sampled per calibration sample and layer")]
    public int RefitPositions { get; init; } = 256;

    [Option("Refit: ridge λ relative to the mean of the Gram diagonal XᵀX, pulling the fit towards the data-free factor")]
    public double RefitRidge { get; init; } = 0.1;

    /// <summary>The op types this pass factorizes when <c>IncludeOpTypes</c> is empty.</summary>
    protected abstract IReadOnlyList<string> FactorizableOpTypes { get; }

    /// <summary>The op types selected by the concrete options record.</summary>
    protected abstract IReadOnlyList<string> SelectedOpTypes { get; }

    public override IEnumerable<string> Validate()
    {
        if (!(Energy is > 0 and <= 1)) yield return $"Energy must be in (0, 1], not {Energy}";
        if (RankRatio is { } ratio && !(ratio is > 0 and <= 1)) yield return $"RankRatio must be in (0, 1], not {ratio}";
        if (RankMultiple < 1) yield return $"RankMultiple must be ≥ 1, not {RankMultiple}";
        if (RandomizedMinDim < 1) yield return $"RandomizedMinDim must be ≥ 1, not {RandomizedMinDim}";
        if (Oversampling < 0) yield return $"Oversampling must be ≥ 0, not {Oversampling}";
        if (PowerIterations is < 0 or > 20) yield return $"PowerIterations must be in [0, 20], not {PowerIterations}";
        if (MaxParallelism is 0 or < -1) yield return $"MaxParallelism must be -1 (one per core) or ≥ 1, not {MaxParallelism}";
        foreach (var p in NodeSelection.Validate(SelectedOpTypes, ExcludeOpTypes, IncludeNodes, ExcludeNodes)) yield return p;
        foreach (var op in SelectedOpTypes ?? [])
        {
            if (!FactorizableOpTypes.Contains(op)) yield return $"IncludeOpTypes: '{op}' is not one of {string.Join(", ", FactorizableOpTypes)}";
        }
        if (RefitPositions < 1) yield return $"RefitPositions must be ≥ 1, not {RefitPositions}";
        if (!(RefitRidge >= 0) || double.IsInfinity(RefitRidge)) yield return $"RefitRidge must be a finite value ≥ 0, not {RefitRidge}";
        if (InputShapes == null) yield return "InputShapes is null (use an empty dictionary)";
        else if (InputShapes.Any(kv => kv.Value == null || kv.Value.Any(d => d < 0))) yield return "InputShapes holds a missing or negative dimension";
    }

    internal RepairSettings RefitSettings => new(RefitPositions, RefitRidge, Seed: 1, nameof(RefitPositions));

    internal NodeSelection Selection => new(SelectedOpTypes, ExcludeOpTypes, IncludeNodes, ExcludeNodes);

    /// <summary>
    /// The rank kept of a spectrum whose squares are <paramref name="squares"/> (descending; may be a leading part only) out of a
    /// total energy <paramref name="total"/>, full rank <paramref name="full"/>: by <see cref="RankRatio"/> or the smallest rank
    /// holding <see cref="Energy"/>, then rounded up to <see cref="RankMultiple"/> and capped at <paramref name="full"/>.
    /// Null when the leading part given does not reach the energy (the rank needed is larger than <paramref name="squares"/> holds).
    /// </summary>
    internal int? ChooseRank(IReadOnlyList<double> squares, double total, int full)
    {
        int raw;
        if (RankRatio is { } ratio)
        {
            raw = (int)Math.Ceiling(ratio * full - 1e-9);
        }
        else
        {
            var target = Energy * total;
            var sum = 0.0;
            raw = -1;
            for (var i = 0; i < squares.Count; i++)
            {
                sum += squares[i];
                // Relative slack: a weight of exact rank r keeps all its energy at r, up to rounding of the sum.
                if (sum >= target * (1 - 1e-12))
                {
                    raw = i + 1;
                    break;
                }
            }
            if (raw < 0) return squares.Count >= full ? full : null;
        }
        return RoundRank(Math.Max(1, raw), full);
    }

    /// <summary><paramref name="rank"/> rounded up to <see cref="RankMultiple"/>, at most <paramref name="full"/>.</summary>
    internal int RoundRank(int rank, int full) => (int)Math.Min(full, (rank + (long)RankMultiple - 1) / RankMultiple * RankMultiple);
}

/// <summary>Options of <see cref="FactorizeSvdPass"/>.</summary>
public sealed record FactorizeSvdOptions : FactorizeOptions
{
    /// <summary>The op types <see cref="FactorizeSvdPass"/> handles (Conv: 1×1 kernels of group 1 only).</summary>
    public static IReadOnlyList<string> SvdOpTypes { get; } = [Onnx.Ir.OpTypes.Gemm, Onnx.Ir.OpTypes.MatMul, Onnx.Ir.OpTypes.Conv];

    [Option("When non-empty, only these op types are factorized (of Gemm, MatMul, Conv; Conv means 1×1 kernels)")]
    public IReadOnlyList<string> IncludeOpTypes { get; init; } = [];

    protected override IReadOnlyList<string> FactorizableOpTypes => SvdOpTypes;
    protected override IReadOnlyList<string> SelectedOpTypes => IncludeOpTypes;
}

/// <summary>How <see cref="FactorizeConvPass"/> splits a k×k convolution.</summary>
public enum ConvFactorization
{
    /// <summary>1×1 conv C→r_in, k×k conv r_in→r_out (original stride, pads, dilation), 1×1 conv r_out→K with the bias (Tucker-2 by HOSVD, refined by HOOI).</summary>
    Tucker2,

    /// <summary>k_h×1 conv C→r, then 1×k_w conv r→K: SVD of W reshaped to [C·k_h, K·k_w] (AIMET's spatial SVD).</summary>
    SpatialSvd,

    /// <summary>Depthwise k×k conv with m filters per input channel (group C), then 1×1 conv C·m→K: a rank-m SVD of each input channel's K×k² bank.</summary>
    DepthwiseSeparable,

    /// <summary>Rank-R CP by ALS: 1×1 conv C→R, k_h×1 depthwise, 1×k_w depthwise, 1×1 conv R→K.</summary>
    Cp,
}

/// <summary>Options of <see cref="FactorizeConvPass"/>.</summary>
public sealed record FactorizeConvOptions : FactorizeOptions
{
    [Option("Tucker2, SpatialSvd, DepthwiseSeparable or Cp")]
    public ConvFactorization Method { get; init; } = ConvFactorization.Tucker2;

    [Option("Tucker2: HOOI sweeps refining the HOSVD factors (0: plain truncated HOSVD)")]
    public int HooiIterations { get; init; } = 2;

    [Option("Cp: ALS sweeps per rank tried")]
    public int CpIterations { get; init; } = 50;

    protected override IReadOnlyList<string> FactorizableOpTypes => [Onnx.Ir.OpTypes.Conv];
    protected override IReadOnlyList<string> SelectedOpTypes => [];

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate()) yield return p;
        if (!Enum.IsDefined(Method)) yield return $"Method {(int)Method} is not a ConvFactorization";
        if (HooiIterations is < 0 or > 100) yield return $"HooiIterations must be in [0, 100], not {HooiIterations}";
        if (CpIterations is < 1 or > 10_000) yield return $"CpIterations must be in [1, 10000], not {CpIterations}";
    }
}
