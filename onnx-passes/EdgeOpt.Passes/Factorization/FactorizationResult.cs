namespace EdgeOpt.Passes.Factorization;

/// <summary>A factorization pass, whatever its options type: what its latest run did.</summary>
public interface IFactorizationPass : Core.IPass
{
    /// <summary>What the latest run did (null before the first), for tools that want numbers rather than report lines.</summary>
    FactorizationResult? LastResult { get; }
}

/// <summary>One layer a factorization pass rewrote.</summary>
/// <param name="Node">The layer's name (<see cref="Pruning.LayerNames.Of"/>).</param>
/// <param name="Method">Svd, Tucker2, SpatialSvd, DepthwiseSeparable or Cp.</param>
/// <param name="Ranks">The kept ranks: [r] for the SVDs, [r_in, r_out] for Tucker-2, [m] (filters per input channel) for depthwise-separable, [R] for CP.</param>
/// <param name="ParametersBefore">Weight elements before (the bias, carried unchanged, is not counted).</param>
/// <param name="ParametersAfter">Weight elements of the factors.</param>
/// <param name="MacsBefore">MACs of the layer (null when its shapes are unknown: set InputShapes).</param>
/// <param name="MacsAfter">MACs of the nodes replacing it.</param>
/// <param name="RelativeError">‖W − Ŵ‖_F / ‖W‖_F with Ŵ rebuilt from the factors as stored (rounded to the weight's type).</param>
/// <param name="Nodes">The names of the nodes replacing the layer, in order.</param>
public sealed record FactorizedLayer(string Node, string OpType, string Method, IReadOnlyList<int> Ranks, long ParametersBefore, long ParametersAfter,
    long? MacsBefore, long? MacsAfter, double RelativeError, IReadOnlyList<string> Nodes)
{
    /// <summary>
    /// The data-aware refit of the last factor (<see cref="FactorizeOptions.Refit"/>): the relative output error
    /// ‖Y_ref − Y‖/‖Y_ref‖ of the layer on the calibration rows with the data-free factors and after the refit, and what was
    /// refit (the weights and bias, or the bias alone); null when refit did not run (option off or no activations).
    /// </summary>
    public Pruning.LayerRepair? Refit { get; init; }
}

/// <summary>A layer a factorization pass considered and left alone, and why.</summary>
public sealed record SkippedLayer(string Node, string OpType, string Reason);

/// <summary>What one run of a factorization pass did: the layers rewritten and skipped, their totals, and the time taken.</summary>
/// <param name="ParametersBefore">Σ weight elements of the rewritten layers before.</param>
/// <param name="ParametersAfter">Σ weight elements of their factors.</param>
/// <param name="MacsBefore">Σ MACs of the rewritten layers before (null when any is unknown).</param>
/// <param name="MacsAfter">Σ MACs of the nodes replacing them (null when any is unknown).</param>
/// <param name="Seconds">Wall time of the run, factorizations and graph edits included.</param>
public sealed record FactorizationResult(string PassId, IReadOnlyList<FactorizedLayer> Layers, IReadOnlyList<SkippedLayer> Skipped,
    long ParametersBefore, long ParametersAfter, long? MacsBefore, long? MacsAfter, double Seconds)
{
    /// <summary>The refit of the last factors from calibration data (<see cref="Pruning.RepairSummary.Off"/> when it did not run).</summary>
    public Pruning.RepairSummary Refit { get; init; } = Pruning.RepairSummary.Off;
}
