using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Pruning;

/// <summary>Where <see cref="PruneMagnitudePass"/> draws its magnitude threshold.</summary>
public enum PruneGranularity
{
    /// <summary>One threshold per weight: every pruned layer reaches the target sparsity.</summary>
    Layer,

    /// <summary>One threshold across every pruned weight: layers with many small weights lose more.</summary>
    Global,
}

/// <summary>Options of <see cref="PruneMagnitudePass"/>.</summary>
public sealed record PruneMagnitudeOptions : PassOptions
{
    /// <summary>The op types pruned when <see cref="IncludeOpTypes"/> is empty.</summary>
    public static IReadOnlyList<string> PrunableOpTypes { get; } = [OpTypes.Conv, OpTypes.ConvTranspose, OpTypes.Gemm, OpTypes.MatMul];

    [Option("Fraction of the weights set to zero, smallest |w| first: per weight (Layer) or over all pruned weights (Global)")]
    public double Sparsity { get; init; } = 0.5;

    [Option("Layer: one magnitude threshold per weight; Global: one threshold across every pruned weight")]
    public PruneGranularity Granularity { get; init; } = PruneGranularity.Layer;

    [Option("Per-node sparsity (node name, or first output name if unnamed → fraction) replacing Sparsity; such nodes get their own threshold, also under Global")]
    public IReadOnlyDictionary<string, double> LayerSparsity { get; init; } = new Dictionary<string, double>();

    [Option("Keep the layers next to the graph inputs and outputs dense (usually the most sensitive ones)")]
    public bool KeepFirstAndLastDense { get; init; } = true;

    [Option("Weights with fewer elements stay dense (pruning them saves little)")]
    public int MinElements { get; init; } = 256;

    [Option("When non-empty, only these op types are pruned (of Conv, ConvTranspose, Gemm, MatMul)")]
    public IReadOnlyList<string> IncludeOpTypes { get; init; } = [];

    [Option("Op types never pruned")]
    public IReadOnlyList<string> ExcludeOpTypes { get; init; } = [];

    [Option("When non-empty, only nodes with these names (first output name for unnamed nodes) are pruned")]
    public IReadOnlyList<string> IncludeNodes { get; init; } = [];

    [Option("Node names never pruned")]
    public IReadOnlyList<string> ExcludeNodes { get; init; } = [];

    [Option("Store pruned weights as ONNX sparse initializers (COO, int64 indices) where that takes fewer bytes than dense")]
    public bool SparseStorage { get; init; }

    [Option("Serialize and deflate the model before and after pruning to report its size in a zip (two extra serializations)")]
    public bool MeasureSize { get; init; } = true;

    [Option("Refit by least squares on calibration activations so outputs match the unpruned model's; applies when the pipeline provides activations (PassContext.Activations)")]
    public bool Repair { get; init; } = true;

    [Option("Repair: output positions (Conv) or input rows (Gemm/MatMul) sampled per calibration sample and layer")]
    public int RepairPositions { get; init; } = 256;

    [Option("Repair: ridge λ relative to the mean of the Gram diagonal XᵀX, pulling the fit towards the pruned weights (0.1 measured best on held-out ppocrv4_det and fastestdet inputs among 1e-3…1)")]
    public double RepairRidge { get; init; } = 0.1;

    public override IEnumerable<string> Validate()
    {
        if (RepairPositions < 1) yield return $"RepairPositions must be ≥ 1, not {RepairPositions}";
        if (!(RepairRidge >= 0) || double.IsInfinity(RepairRidge)) yield return $"RepairRidge must be a finite value ≥ 0, not {RepairRidge}";
        if (!(Sparsity is >= 0 and <= 1)) yield return $"Sparsity must be in [0, 1], not {Sparsity}";
        if (!Enum.IsDefined(Granularity)) yield return $"Granularity {(int)Granularity} is not a PruneGranularity";
        if (MinElements < 0) yield return $"MinElements must be ≥ 0, not {MinElements}";
        foreach (var p in NodeSelection.ValidateRatios(nameof(LayerSparsity), LayerSparsity)) yield return p;
        foreach (var p in NodeSelection.Validate(IncludeOpTypes, ExcludeOpTypes, IncludeNodes, ExcludeNodes)) yield return p;
        foreach (var op in IncludeOpTypes ?? [])
        {
            if (!PrunableOpTypes.Contains(op)) yield return $"IncludeOpTypes: '{op}' is not one of {string.Join(", ", PrunableOpTypes)}";
        }
    }

    internal RepairSettings RepairSettings => new(RepairPositions, RepairRidge, Seed: 1);

    internal NodeSelection Selection => new(IncludeOpTypes, ExcludeOpTypes, IncludeNodes, ExcludeNodes);

    /// <summary>The target sparsity of <paramref name="node"/> and whether it comes from <see cref="LayerSparsity"/>.</summary>
    internal (double Ratio, bool Override) SparsityOf(Node node) =>
        LayerSparsity.TryGetValue(LayerNames.Of(node), out var r) ? (r, true) : (Sparsity, false);
}
