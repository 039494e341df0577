using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Unstructured magnitude pruning: sets the smallest-|w| weights of Conv, ConvTranspose, Gemm and MatMul to zero.
/// <para>Before: <c>y = Conv(x, W)</c>. After: <c>y = Conv(x, W ⊙ M)</c> with the mask M zero where |W| is among the smallest
/// ⌊s·n⌋ of the n weights (<see cref="PruneGranularity.Layer"/>) or of all pruned weights together
/// (<see cref="PruneGranularity.Global"/>, one threshold), s the target sparsity. Ties break by layer order, then by element
/// index, so the result is deterministic; weights already zero count towards the target (a second run changes nothing).</para>
/// <para>Kept weights are copied bit for bit; the weight tensor is changed in place when only this node reads it (a Constant
/// node's value becomes the initializer <c>{node}/pruned_weight</c>). With <see cref="PruneMagnitudeOptions.SparseStorage"/> a
/// pruned weight is stored as a sparse initializer (COO: values plus int64 linear indices, 4+8 bytes per non-zero float) when
/// that is smaller than dense — above about 2/3 sparsity for float; the model's IR version is raised to 6 (the first with
/// sparse initializers) if it is older. Sparse weights are no constants to later passes: store sparse last.</para>
/// Skipped with the reason: weights that are not constant float/float16/double tensors, weights shared by several nodes,
/// weights below <see cref="PruneMagnitudeOptions.MinElements"/>, the first and last layers
/// (<see cref="PruneMagnitudeOptions.KeepFirstAndLastDense"/>) and nodes the include/exclude lists leave out. Speed: zeros only
/// pay at run time on sparse kernels; on dense ones they shrink the deflated model. Lossy.
/// <para>Repair (<see cref="PruneMagnitudeOptions.Repair"/>, when <see cref="PassContext.Activations"/> is set): each pruned
/// layer of the main graph, in graph order, is refit on calibration data: for every output o, the surviving (non-zero)
/// weights S_o and the bias minimize ‖X[:, S_o]·w_o + b_o − Y_o‖² + λ‖·‖², X the layer's input in the model as pruned and
/// repaired so far (im2col rows at sampled positions for a Conv, per group), Y its output in the dense model the pass
/// received — OBS/SparseGPT-style reconstruction, solved exactly per output rather than iteratively. Zeros stay zero, so the
/// sparsity is unchanged; the bias may change (a Conv without one gets one). The per-layer relative errors ‖Y − Y'‖/‖Y‖
/// before and after are reported (<see cref="MagnitudePruneSummary.Repair"/>); a refit that does not lower the error is
/// not written. Sparse storage happens after the repair.</para>
/// </summary>
public sealed class PruneMagnitudePass(PruneMagnitudeOptions options) : Pass<PruneMagnitudeOptions>(options)
{
    public const string PassId = "prune-magnitude";

    /// <summary>The first ONNX IR version with <c>graph.sparse_initializer</c>.</summary>
    public const long SparseInitializerIrVersion = 6;

    /// <summary>The weight input of every pruned op (Conv/ConvTranspose W, Gemm B, MatMul B).</summary>
    private const int WeightInput = ConvInput.W;

    public PruneMagnitudePass() : this(new PruneMagnitudeOptions()) { }

    public override string Id => PassId;
    public override string Description => "Zeros the smallest-magnitude weights of Conv/Gemm/MatMul to a target sparsity (per layer or global)";
    public override bool IsExact => false;

    /// <summary>What the latest <see cref="Pass{TOptions}.Run"/> did, for tools that want numbers rather than report lines.</summary>
    public MagnitudePruneSummary? LastSummary { get; private set; }

    protected override void Execute(Model model, PassContext context, PassReport report)
    {
        var before = Options.MeasureSize ? ModelSize.Measure(model) : (ModelSize?)null;
        var layers = new List<Layer>();
        foreach (var graph in model.Graph.SelfAndDescendants().ToList())
        {
            context.Cancellation.ThrowIfCancellationRequested();
            layers.AddRange(Candidates(graph, report));
        }
        var zeroed = Select(layers);
        var repair = Options.Repair && context.Activations != null;
        var reference = repair ? ModelReader.Copy(model) : null;
        var edit = new Dictionary<Graph, GraphEditor>();
        var pruned = new List<(Layer Layer, long ZerosBefore, int NewZeros)>();
        foreach (var (layer, zeros) in layers.Zip(zeroed))
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var editor = edit.TryGetValue(layer.Node.Graph, out var e) ? e : edit[layer.Node.Graph] = new GraphEditor(layer.Node.Graph);
            pruned.Add((layer, layer.Values.LongCount(v => v == 0), Zero(layer, zeros, editor)));
        }
        var repairs = repair ? Repair(model, reference!, [.. pruned.Where(p => p.NewZeros > 0).Select(p => p.Layer.Node)], context) : RepairSummary.Off;
        var results = pruned.Select(p => Finish(p.Layer, p.ZerosBefore, p.NewZeros, repairs, report)).ToList();
        RaiseIrVersionIfSparse(model, results, report);
        var after = Options.MeasureSize ? ModelSize.Measure(model) : (ModelSize?)null;
        LastSummary = Summarize(results, before, after, report) with { Repair = repairs };
    }

    /// <summary>Refits the pruned layers of the main graph one at a time in graph order (see the class remarks).</summary>
    private RepairSummary Repair(Model model, Model reference, List<Node> nodes, PassContext context)
    {
        var statistics = new RepairStatistics();
        var results = new List<LayerRepair>();
        var order = new Dictionary<Node, int>();
        for (var i = 0; i < model.Graph.Nodes.Count; i++) order[model.Graph.Nodes[i]] = i;
        foreach (var node in nodes.OrderBy(n => order.GetValueOrDefault(n, int.MaxValue)))
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if (node.Graph != model.Graph)
            {
                results.Add(LayerRepair.Skipped(LayerNames.Of(node), node.OpType, 0, "inside a subgraph (only the main graph is refit)"));
                continue;
            }
            var request = LayerRefit.Describe(node, null, sparse: true, out var reason);
            if (request == null)
            {
                results.Add(LayerRepair.Skipped(LayerNames.Of(node), node.OpType, 0, reason!));
                continue;
            }
            results.AddRange(LayerRefit.Run(model, reference, [request], context.Activations!, Options.RepairSettings, statistics, context.Cancellation));
        }
        return new RepairSummary(true, statistics.Samples, statistics.Seconds, results);
    }

    /// <summary>The nodes of <paramref name="graph"/> this run prunes; the others are reported as skipped.</summary>
    private List<Layer> Candidates(Graph graph, PassReport report)
    {
        var layers = graph.Nodes.Where(n => n.IsOnnxDomain && PruneOps.WeightedOps.Contains(n.OpType) && n.Input(WeightInput)?.Constant != null).ToList();
        var boundary = Options.KeepFirstAndLastDense ? LayerBoundary.FirstAndLast(graph, layers) : [];
        var selected = new List<Layer>();
        foreach (var node in graph.Nodes.Where(n => n.IsOnnxDomain && PruneOps.WeightedOps.Contains(n.OpType)))
        {
            var reason = Options.Selection.Reason(node) ?? WeightProblem(node) ?? (boundary.Contains(node) ? "first or last layer (KeepFirstAndLastDense)" : null);
            if (reason != null)
            {
                report.Skip(LayerNames.Label(node), reason);
                continue;
            }
            var weight = node.Input(WeightInput)!.Constant!;
            var (ratio, own) = Options.SparsityOf(node);
            selected.Add(new Layer(node, weight, FloatTensors.ToDoubles(weight)!, ratio, own || Options.Granularity == PruneGranularity.Layer));
        }
        return selected;
    }

    /// <summary>Why the node's weight cannot be pruned; null when it can.</summary>
    private string? WeightProblem(Node node)
    {
        var wv = node.Input(WeightInput);
        if (wv == null) return "has no weight input";
        var w = wv.Constant;
        if (w == null) return WeightTensors.NotConstantReason(wv);
        if (!WeightTensors.IsPrunable(w.DataType)) return $"weight '{wv.Name}' is {TensorDataTypes.OnnxName(w.DataType)}; only float, float16 and double are pruned";
        if (wv.Uses.Count > 1) return $"weight '{wv.Name}' is shared by {wv.Uses.Count} inputs";
        if (wv.IsGraphOutput) return $"weight '{wv.Name}' is a graph output";
        if (w.ElementCount < Options.MinElements) return $"{w.ElementCount} weights < MinElements {Options.MinElements}";
        return null;
    }

    /// <summary>The element indices to zero per layer: the smallest ⌊s·n⌋ magnitudes, per layer or over the global pool.</summary>
    private List<long[]> Select(List<Layer> layers)
    {
        var result = layers.Select(_ => Array.Empty<long>()).ToList();
        var pool = new List<int>();
        for (var i = 0; i < layers.Count; i++)
        {
            if (layers[i].OwnThreshold) result[i] = Smallest([layers[i]], layers[i].Ratio)[0];
            else pool.Add(i);
        }
        if (pool.Count == 0) return result;
        var chosen = Smallest([.. pool.Select(i => layers[i])], Options.Sparsity);
        for (var k = 0; k < pool.Count; k++) result[pool[k]] = chosen[k];
        return result;
    }

    /// <summary>
    /// Of all weights of <paramref name="layers"/> together, the indices of the ⌊ratio·n⌋ smallest magnitudes per layer
    /// (ties: earlier layer, then lower index first).
    /// </summary>
    private static long[][] Smallest(IReadOnlyList<Layer> layers, double ratio)
    {
        var total = layers.Sum(l => l.Values.LongLength);
        var k = (long)Math.Floor(ratio * total + 1e-9);
        var picked = layers.Select(_ => new List<long>()).ToArray();
        if (k <= 0) return [.. picked.Select(p => p.ToArray())];
        var all = new double[total];
        var at = 0L;
        foreach (var l in layers)
        {
            for (var i = 0; i < l.Values.Length; i++) all[at++] = Math.Abs(l.Values[i]);
        }
        Array.Sort(all);
        var threshold = all[k - 1];
        var below = 0L;
        for (var j = 0; j < layers.Count; j++)
        {
            var v = layers[j].Values;
            for (var i = 0; i < v.Length; i++)
            {
                if (Math.Abs(v[i]) < threshold) picked[j].Add(i);
            }
            below += picked[j].Count;
        }
        var ties = k - below;
        for (var j = 0; j < layers.Count && ties > 0; j++)
        {
            var v = layers[j].Values;
            for (var i = 0; i < v.Length && ties > 0; i++)
            {
                if (Math.Abs(v[i]) == threshold)
                {
                    picked[j].Add(i);
                    ties--;
                }
            }
        }
        return [.. picked.Select(p => p.Order().ToArray())];
    }

    /// <summary>Zeros the chosen weights of <paramref name="layer"/> that are not zero yet; how many that is.</summary>
    private static int Zero(Layer layer, long[] zeros, GraphEditor edit)
    {
        var newZeros = zeros.Where(i => layer.Values[i] != 0).ToList();
        if (newZeros.Count > 0) WeightTensors.Replace(edit, layer.Node, WeightInput, "pruned_weight", WeightTensors.Zeroed(layer.Weight, newZeros));
        return newZeros.Count;
    }

    /// <summary>After zeroing (and repair): stores the weight sparse when asked and smaller, and reports the layer.</summary>
    private LayerSparsityResult Finish(Layer layer, long zerosBefore, int newZeros, RepairSummary repairs, PassReport report)
    {
        var node = layer.Node;
        var n = layer.Values.LongLength;
        var label = LayerNames.Label(node);
        if (newZeros == 0)
        {
            report.Skip(label, $"already {Percent(zerosBefore, n)} sparse (target {Percent(layer.Ratio)}); nothing to zero");
            return new LayerSparsityResult(LayerNames.Of(node), node.OpType, n, zerosBefore, zerosBefore, false, layer.Weight.ByteCount, layer.Weight.ByteCount);
        }
        var zerosAfter = zerosBefore + newZeros;
        var stored = Options.SparseStorage ? StoreSparse(node.Input(WeightInput)!, n - zerosAfter) : null;
        var value = node.Input(WeightInput)!;
        var storage = stored ?? (Options.SparseStorage
            ? $"; kept dense ({ModelSize.Format(layer.Weight.ByteCount)}; sparse would take {ModelSize.Format(SparseStorage.SparseBytes(n - zerosAfter, WeightTensors.ElementSize(layer.Weight.DataType)))})"
            : "");
        var repaired = repairs.Layers.FirstOrDefault(r => r.Node == LayerNames.Of(node)) is { } r ? $"; repair: {r.Describe()}" : "";
        report.Change(label, $"sparsity {Percent(zerosBefore, n)} → {Percent(zerosAfter, n)}: {zerosAfter:N0} of {n:N0} weights zero{storage}{repaired}");
        return new LayerSparsityResult(LayerNames.Of(node), node.OpType, n, zerosBefore, zerosAfter, value.SparseInitializer != null,
            layer.Weight.ByteCount, SparseStorage.StoredBytes(value));
    }

    /// <summary>Stores the (now exclusive) weight initializer sparse when that is smaller; the report fragment, or null when kept dense.</summary>
    private static string? StoreSparse(Value weight, long nonZeros)
    {
        var dense = weight.Initializer;
        if (dense == null || weight.IsGraphInput || weight.Uses.Count != 1) return null;
        var sparseBytes = SparseStorage.SparseBytes(nonZeros, WeightTensors.ElementSize(dense.DataType));
        if (sparseBytes >= dense.ByteCount) return null;
        weight.Graph.MakeSparseInitializer(weight, SparseStorage.FromDense(dense));
        return $"; stored sparse: {ModelSize.Format(dense.ByteCount)} → {ModelSize.Format(SparseStorage.StoredBytes(weight))}";
    }

    private static void RaiseIrVersionIfSparse(Model model, List<LayerSparsityResult> results, PassReport report)
    {
        if (!results.Any(r => r.StoredSparse) || model.IrVersion >= SparseInitializerIrVersion) return;
        report.Change("model", $"ir_version {model.IrVersion} → {SparseInitializerIrVersion}: sparse initializers need it (operator sets unchanged)");
        model.IrVersion = SparseInitializerIrVersion;
    }

    private static MagnitudePruneSummary Summarize(List<LayerSparsityResult> results, ModelSize? before, ModelSize? after, PassReport report)
    {
        var summary = new MagnitudePruneSummary(results, results.Sum(r => r.DenseBytes), results.Sum(r => r.StoredBytes), results.Count(r => r.StoredSparse), before, after);
        var pruned = results.Where(r => r.ZerosAfter > r.ZerosBefore).ToList();
        if (pruned.Count == 0) return summary;
        var parameters = pruned.Sum(r => r.Parameters);
        var zeros = pruned.Sum(r => r.ZerosAfter);
        var size = before is { } b && after is { } a
            ? $"; model {ModelSize.Format(b.RawBytes)} → {ModelSize.Format(a.RawBytes)}, deflated {ModelSize.Format(b.DeflatedBytes)} → {ModelSize.Format(a.DeflatedBytes)}"
            : "";
        report.Change("model", $"{pruned.Count} weights pruned to {Percent(zeros, parameters)} sparsity ({zeros:N0} of {parameters:N0} zero); " +
            $"weights {ModelSize.Format(summary.DenseWeightBytes)} dense → {ModelSize.Format(summary.StoredWeightBytes)} stored ({summary.SparseTensors} sparse){size}");
        return summary;
    }

    private static string Percent(long part, long whole) => Percent(whole == 0 ? 0 : (double)part / whole);

    private static string Percent(double fraction) => $"{100 * fraction:0.0}%";

    /// <param name="OwnThreshold">True when this layer's zeros are chosen among its own weights (Layer granularity or an override).</param>
    private sealed record Layer(Node Node, Tensor Weight, double[] Values, double Ratio, bool OwnThreshold);
}

/// <summary>One weight's outcome in <see cref="PruneMagnitudePass"/>.</summary>
/// <param name="Node">The node name.</param>
/// <param name="Parameters">Elements of the weight.</param>
/// <param name="ZerosBefore">Elements that were zero before.</param>
/// <param name="ZerosAfter">Elements zero after.</param>
/// <param name="StoredSparse">Whether the weight is now a sparse initializer.</param>
/// <param name="DenseBytes">Bytes of the dense weight.</param>
/// <param name="StoredBytes">Bytes it is stored in now (values plus indices when sparse).</param>
public sealed record LayerSparsityResult(string Node, string OpType, long Parameters, long ZerosBefore, long ZerosAfter, bool StoredSparse, long DenseBytes, long StoredBytes)
{
    public double Sparsity => Parameters == 0 ? 0 : (double)ZerosAfter / Parameters;
}

/// <summary>The numbers of one <see cref="PruneMagnitudePass"/> run: per weight, weight storage, and the model size before and after.</summary>
/// <param name="DenseWeightBytes">Dense bytes of the weights the run considered.</param>
/// <param name="StoredWeightBytes">Bytes those weights take now (sparse ones as values plus indices).</param>
/// <param name="SparseTensors">How many of them are stored sparse.</param>
/// <param name="Before">Serialized and deflated size before (null unless MeasureSize).</param>
/// <param name="After">Serialized and deflated size after (null unless MeasureSize).</param>
public sealed record MagnitudePruneSummary(IReadOnlyList<LayerSparsityResult> Layers, long DenseWeightBytes, long StoredWeightBytes, int SparseTensors, ModelSize? Before, ModelSize? After)
{
    /// <summary>The refit of the pruned layers from calibration data (<see cref="RepairSummary.Off"/> when it did not run).</summary>
    public RepairSummary Repair { get; init; } = RepairSummary.Off;
}
