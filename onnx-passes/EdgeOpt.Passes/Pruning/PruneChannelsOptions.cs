using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Pruning;

/// <summary>How <see cref="PruneChannelsPass"/> ranks channels when no <see cref="IChannelScorer"/> is set.</summary>
public enum ChannelCriterion
{
    /// <summary>Σ|w| over the channel's weights.</summary>
    L1,

    /// <summary>√Σw² over the channel's weights.</summary>
    L2,
}

/// <summary>Options of <see cref="PruneChannelsPass"/>.</summary>
public sealed record PruneChannelsOptions : PassOptions
{
    [Option("Fraction of each layer's output channels removed, lowest-ranked first")]
    public double Ratio { get; init; } = 0.3;

    [Option("Channel ranking: L1 (Σ|w|) or L2 (√Σw²) norm of each channel's weights, summed over the layers of a coupled group")]
    public ChannelCriterion Criterion { get; init; } = ChannelCriterion.L1;

    [Option("Per-node ratio (node name, or first output name if unnamed → fraction) replacing Ratio; a coupled group takes the first of its layers listed")]
    public IReadOnlyDictionary<string, double> LayerRatios { get; init; } = new Dictionary<string, double>();

    [Option("Channels every layer keeps at least")]
    public int MinChannels { get; init; } = 1;

    [Option("Round the channels a layer keeps up to a multiple of this (e.g. 8 for SIMD-friendly widths)")]
    public int ChannelMultiple { get; init; } = 1;

    [Option("Prune layers whose channels meet at Add/Mul/Concat joins together, as one group (false: leave such groups alone)")]
    public bool PruneCoupledGroups { get; init; } = true;

    [Option("When non-empty, only groups started by these op types are pruned (of Conv, ConvTranspose, Gemm, MatMul)")]
    public IReadOnlyList<string> IncludeOpTypes { get; init; } = [];

    [Option("Op types never pruned (a group with such a layer is left alone)")]
    public IReadOnlyList<string> ExcludeOpTypes { get; init; } = [];

    [Option("When non-empty, only the groups of these nodes (first output name for unnamed nodes) are pruned")]
    public IReadOnlyList<string> IncludeNodes { get; init; } = [];

    [Option("Node names never pruned (a group with such a layer is left alone)")]
    public IReadOnlyList<string> ExcludeNodes { get; init; } = [];

    [Option("Concrete shapes for dynamic graph inputs (name → dims), for MACs and for Flatten/Reshape block sizes")]
    public IReadOnlyDictionary<string, long[]> InputShapes { get; init; } = new Dictionary<string, long[]>();

    [Option("With activations from the pipeline: rank channels by Σ_consumers ‖W_consumer[:, c]‖·RMS(x_c), their share of the consumers' outputs on calibration data, instead of the weight norms")]
    public bool RankByActivations { get; init; }

    [Option("Refit by least squares on calibration activations so outputs match the unpruned model's; applies when the pipeline provides activations (PassContext.Activations)")]
    public bool Repair { get; init; } = true;

    [Option("Repair: output positions (Conv) or input rows (Gemm/MatMul) sampled per calibration sample and layer")]
    public int RepairPositions { get; init; } = 256;

    [Option("Repair: ridge λ relative to the mean of the Gram diagonal XᵀX, pulling the fit towards the pruned weights (0.1 measured best on held-out ppocrv4_det and fastestdet inputs among 1e-3…1)")]
    public double RepairRidge { get; init; } = 0.1;

    /// <summary>Ranks channels instead of the weight norms (set by the pipeline, e.g. from calibration data); null: <see cref="Criterion"/>.</summary>
    public IChannelScorer? Scorer { get; init; }

    public override IEnumerable<string> Validate()
    {
        if (RepairPositions < 1) yield return $"RepairPositions must be ≥ 1, not {RepairPositions}";
        if (!(RepairRidge >= 0) || double.IsInfinity(RepairRidge)) yield return $"RepairRidge must be a finite value ≥ 0, not {RepairRidge}";
        if (!(Ratio is >= 0 and < 1)) yield return $"Ratio must be in [0, 1), not {Ratio}";
        if (!Enum.IsDefined(Criterion)) yield return $"Criterion {(int)Criterion} is not a ChannelCriterion";
        if (MinChannels < 1) yield return $"MinChannels must be ≥ 1, not {MinChannels}";
        if (ChannelMultiple < 1) yield return $"ChannelMultiple must be ≥ 1, not {ChannelMultiple}";
        foreach (var p in NodeSelection.ValidateRatios(nameof(LayerRatios), LayerRatios)) yield return p;
        foreach (var p in NodeSelection.Validate(IncludeOpTypes, ExcludeOpTypes, IncludeNodes, ExcludeNodes)) yield return p;
        if (InputShapes == null) yield return "InputShapes is null (use an empty dictionary)";
        else if (InputShapes.Any(kv => kv.Value == null || kv.Value.Any(d => d < 0))) yield return "InputShapes holds a missing or negative dimension";
    }

    internal RepairSettings RepairSettings => new(RepairPositions, RepairRidge, Seed: 1);

    internal NodeSelection Selection => new(IncludeOpTypes, ExcludeOpTypes, IncludeNodes, ExcludeNodes);

    /// <summary>The channels a group of <paramref name="channels"/> keeps at <paramref name="ratio"/>: at least MinChannels, rounded up to ChannelMultiple, at most all.</summary>
    public long ChannelsKept(long channels, double ratio)
    {
        var keep = channels - (long)Math.Floor(ratio * channels + 1e-9);
        keep = Math.Max(keep, MinChannels);
        keep = (keep + ChannelMultiple - 1) / ChannelMultiple * ChannelMultiple;
        return Math.Min(keep, channels);
    }
}
