using System.Diagnostics;
using System.Globalization;
using EdgeOpt.Onnx.Analysis;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;

namespace EdgeOpt.Passes.Factorization;

/// <summary>
/// The frame of the low-rank factorization passes: picks the layers of the main graph (op type, include/exclude lists, a
/// constant float weight read by this node alone), factorizes them in parallel (pure math on copies of the weights, one
/// seeded random stream per layer), then applies the results to the graph one layer at a time in graph order, counts MACs on
/// the rewritten graph, and reports every layer (<see cref="LastResult"/>). Subgraphs are left alone.
/// <para>Refit (<see cref="FactorizeOptions.Refit"/>, when <see cref="PassContext.Activations"/> is set): the last factor of each
/// layer (the final 1×1 conv, 1×k conv, or MatMul/Gemm) and its bias are refit by ridge least squares (<see cref="LayerRefit"/>,
/// XᵀX/XᵀY accumulated per sample, the bias column absorbing the mean shift; a MatMul's bias goes into the Add after it or a new
/// one) so the layer's outputs on the calibration data match the original model's; a refit is written only when it lowers that
/// error, and the errors before and after are reported. A layer with fewer calibration rows than unknowns (a Gemm head sees one
/// row per sample) gets only its bias corrected for the mean shift, when that lowers the error on held-out samples.</para>
/// </summary>
public abstract class FactorizationPass<TOptions>(TOptions options) : Pass<TOptions>(options), IFactorizationPass where TOptions : FactorizeOptions
{
    public override bool IsExact => false;

    /// <summary>What the latest <see cref="Pass{TOptions}.Run"/> did, for tools that want numbers rather than report lines.</summary>
    public FactorizationResult? LastResult { get; private set; }

    /// <summary>Whether the pass looks at <paramref name="node"/> at all (it may still skip it with a reason).</summary>
    private protected abstract bool Handles(Node node);

    /// <summary>
    /// Checks one layer and returns its factorization as work for a thread pool (pure: it reads only <paramref name="layer"/>,
    /// and returns the edit as a closure), or why the layer is skipped.
    /// </summary>
    private protected abstract (Func<int, LayerOutcome>? Work, string? Skip) Plan(LayerInput layer);

    protected override void Execute(Model model, PassContext context, PassReport report)
    {
        var clock = Stopwatch.StartNew();
        var graph = model.Graph;
        var shapes = ShapeInference.Infer(model, new ShapeInferenceOptions { InputShapes = Options.InputShapes });
        var jobs = new List<(LayerInput Layer, Func<int, LayerOutcome> Work)>();
        var skipped = new List<SkippedLayer>();
        void Skip(Node node, string reason)
        {
            skipped.Add(new SkippedLayer(LayerNames.Of(node), node.OpType, reason));
            report.Skip(LayerNames.Label(node), reason);
        }
        foreach (var node in graph.Nodes.Where(n => n.IsOnnxDomain && Handles(n)))
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if ((Options.Selection.Reason(node) ?? WeightProblem(node)) is { } reason)
            {
                Skip(node, reason);
                continue;
            }
            var weight = node.Input(ConvInput.W)!;
            var tensor = weight.Constant!;
            var layer = new LayerInput(node, tensor, FloatTensors.ToDoubles(tensor)!, tensor.DimsArray(),
                shapes.StaticShapeOf(node.Input(ConvInput.X)), shapes.StaticShapeOf(node.Output(0)), CostModel.Macs(node, shapes));
            var (work, skip) = Plan(layer);
            if (work == null) Skip(node, skip ?? "not factorizable");
            else jobs.Add((layer, work));
        }

        var outcomes = new LayerOutcome[jobs.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.MaxParallelism, CancellationToken = context.Cancellation };
        Parallel.For(0, jobs.Count, parallel, i => outcomes[i] = Run(jobs[i].Work, Options.Seed ^ StableHash(jobs[i].Layer.Name)));

        var refit = Options.Refit && context.Activations != null && jobs.Count > 0;
        var edit = new GraphEditor(graph);
        var applied = new List<(LayerInput Layer, LayerOutcome Outcome, IReadOnlyList<Node> Nodes)>();
        var originals = new List<OriginalLayer>();
        for (var i = 0; i < jobs.Count; i++)
        {
            var (layer, outcome) = (jobs[i].Layer, outcomes[i]);
            if (outcome.Skip != null)
            {
                Skip(layer.Node, outcome.Skip);
                continue;
            }
            var weight = layer.Node.Input(ConvInput.W)!;
            if (refit) originals.Add(new OriginalLayer(layer.Node.OpType, layer.Node.Domain, [.. layer.Node.Inputs.Select(v => v?.Name)], [.. layer.Node.Attributes], layer.Tensor));
            var nodes = outcome.Apply!(edit);
            if (weight.Producer is { IsConstantNode: true } constant && !weight.IsUsed) graph.RemoveNode(constant);
            else edit.RemoveIfUnused(weight);
            applied.Add((layer, outcome, nodes));
        }
        (RepairSummary Summary, LayerRepair[] Layers)? refits = refit ? Refit(model, applied.Select(a => a.Nodes).ToList(), originals, context) : null;
        LastResult = Summarize(model, applied, skipped, clock, report, refits);
    }

    /// <summary>
    /// Refits the last factor of every factorized layer (its weights and bias, by <see cref="LayerRefit"/>): inputs are that
    /// factor's inputs in the factorized model, targets the original layer applied to the same layer inputs. The targets come
    /// from a probe copy of the factorized model holding, beside each layer's factors, the original node reading the same
    /// input (its output unused but exposed), so all layers are fitted from one stream per model and each fit is local: it
    /// approximates the original layer on the inputs it now sees, whatever the refits upstream do. (Fitting to the reference
    /// model's outputs instead — asymmetric, all layers at once — was measured worse on ppocr_mobile_v2_cls: every layer is fitted
    /// to upstream errors that the upstream refits then remove.)
    /// </summary>
    private (RepairSummary Summary, LayerRepair[] Layers) Refit(Model model, IReadOnlyList<IReadOnlyList<Node>> factors, IReadOnlyList<OriginalLayer> originals,
        PassContext context)
    {
        var probe = ModelReader.Copy(model);
        var layers = new LayerRepair?[factors.Count];
        var requests = new List<(int Index, RefitRequest Request)>();
        for (var i = 0; i < factors.Count; i++)
        {
            var node = factors[i][^1];
            var request = LayerRefit.Describe(node, null, sparse: false, out var reason);
            if (request == null) layers[i] = LayerRepair.Skipped(LayerNames.Of(node), node.OpType, 0, reason!);
            else requests.Add((i, request with { Target = originals[i].AddTo(probe.Graph, factors[i][0].Name, LayerNames.Of(node)) }));
        }
        var statistics = new RepairStatistics();
        var done = LayerRefit.Run(model, probe, [.. requests.Select(r => r.Request)], context.Activations!, Options.RefitSettings, statistics, context.Cancellation);
        for (var j = 0; j < requests.Count; j++) layers[requests[j].Index] = done[j];
        var all = layers.Select(l => l!).ToArray();
        return (new RepairSummary(true, statistics.Samples, statistics.Seconds, all), all);
    }

    /// <summary>Why the node's weight (input 1) cannot be factorized; null when it can.</summary>
    private static string? WeightProblem(Node node)
    {
        var wv = node.Input(ConvInput.W);
        if (wv == null) return "has no weight input";
        var w = wv.Constant;
        if (w == null) return WeightTensors.NotConstantReason(wv);
        if (!FloatTensors.IsSupported(w.DataType)) return $"weight '{wv.Name}' is {TensorDataTypes.OnnxName(w.DataType)}; only float, float16 and double are factorized";
        if (wv.Uses.Count > 1) return $"weight '{wv.Name}' is shared by {wv.Uses.Count} inputs";
        if (wv.IsGraphOutput) return $"weight '{wv.Name}' is a graph output";
        if (w.ElementCount == 0) return $"weight '{wv.Name}' is empty";
        return null;
    }

    private static LayerOutcome Run(Func<int, LayerOutcome> work, int seed)
    {
        try
        {
            return work(seed);
        }
        catch (MathNet.Numerics.NonConvergenceException e)
        {
            return LayerOutcome.Skipped($"the decomposition did not converge ({e.Message})");
        }
    }

    private FactorizationResult Summarize(Model model, List<(LayerInput Layer, LayerOutcome Outcome, IReadOnlyList<Node> Nodes)> applied,
        List<SkippedLayer> skipped, Stopwatch clock, PassReport report, (RepairSummary Summary, LayerRepair[] Layers)? refits)
    {
        var shapes = applied.Count > 0 ? ShapeInference.Infer(model, new ShapeInferenceOptions { InputShapes = Options.InputShapes }) : null;
        var layers = new List<FactorizedLayer>();
        for (var i = 0; i < applied.Count; i++)
        {
            var (layer, outcome, nodes) = applied[i];
            long? macsAfter = 0;
            foreach (var n in nodes) macsAfter = CostModel.Macs(n, shapes!) is { } m && macsAfter is { } sum ? sum + m : null;
            var name = layer.Name;
            var record = new FactorizedLayer(name, layer.Node.OpType, outcome.Method!, outcome.Ranks!, layer.Tensor.ElementCount, outcome.ParametersAfter,
                layer.Macs, macsAfter, outcome.RelativeError, [.. nodes.Select(n => n.Name)]) { Refit = refits?.Layers[i] };
            layers.Add(record);
            report.Change($"{name} ({layer.Node.OpType})",
                $"{record.Method} rank {string.Join("×", record.Ranks)}{outcome.Detail}: params {Count(record.ParametersBefore)} → {Count(record.ParametersAfter)}, " +
                $"MACs {Count(record.MacsBefore)} → {Count(record.MacsAfter)}, relative error {record.RelativeError:0.####}" +
                (record.Refit is { } r ? $"; refit of {r.Node}: {r.Describe()}" : ""));
        }
        var result = new FactorizationResult(Id, layers, skipped,
            layers.Sum(l => l.ParametersBefore), layers.Sum(l => l.ParametersAfter),
            layers.All(l => l.MacsBefore != null) ? layers.Sum(l => l.MacsBefore!.Value) : null,
            layers.All(l => l.MacsAfter != null) ? layers.Sum(l => l.MacsAfter!.Value) : null,
            clock.Elapsed.TotalSeconds) { Refit = refits?.Summary ?? RepairSummary.Off };
        if (layers.Count > 0)
        {
            var macs = result.MacsBefore == null || result.MacsAfter == null ? "MACs unknown (dynamic shapes: set InputShapes)" : $"MACs {Count(result.MacsBefore)} → {Count(result.MacsAfter)}";
            report.Change("model", $"{layers.Count} layers factorized, {skipped.Count} skipped; their weights {Count(result.ParametersBefore)} → {Count(result.ParametersAfter)} params; {macs}");
        }
        return result;
    }

    private static string Count(long? n) => n is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "?";

    /// <summary>FNV-1a of the UTF-16 code units: a per-layer seed that does not depend on the process or on which other layers are selected.</summary>
    private static int StableHash(string s)
    {
        var h = 2166136261u;
        foreach (var ch in s) h = (h ^ ch) * 16777619u;
        return (int)h;
    }
}

/// <summary>A factorized layer's original node, kept to be rebuilt in the refit's probe model.</summary>
internal sealed record OriginalLayer(string OpType, string Domain, IReadOnlyList<string?> Inputs, IReadOnlyList<EdgeOpt.Onnx.Ir.Attribute> Attributes, Tensor Weight)
{
    /// <summary>
    /// Adds the original node to <paramref name="graph"/> before the node named <paramref name="firstFactor"/>, reading the
    /// same inputs (the weight as a new initializer); returns its output's name.
    /// </summary>
    public string AddTo(Graph graph, string firstFactor, string label)
    {
        var anchor = graph.Nodes.FirstOrDefault(n => n.Name == firstFactor)
            ?? throw new InvalidOperationException($"refit: the probe model has no node '{firstFactor}'");
        var inputs = Inputs.Select((name, j) => j == ConvInput.W
            ? graph.AddConstant($"{label}/refit_reference_w", Weight)
            : name == null ? null : graph.FindValue(name) ?? throw new InvalidOperationException($"refit: the probe model has no value '{name}'")).ToList();
        return graph.AddNode(OpType, inputs, [$"{label}/refit_reference"], $"{label}/refit_reference", Domain, Attributes, before: anchor).Output(0).Name;
    }
}

/// <summary>One layer as the planning step sees it: the node, its weight (as doubles too), and its static shapes where known.</summary>
/// <param name="Input">Static shape of input 0 (null when unknown).</param>
/// <param name="Output">Static shape of output 0 (null when unknown).</param>
/// <param name="Macs">The layer's MACs by <see cref="CostModel"/> (null when unknown).</param>
internal sealed record LayerInput(Node Node, Tensor Tensor, double[] Values, long[] Dims, long[]? Input, long[]? Output, long? Macs)
{
    /// <summary>The layer's name (<see cref="LayerNames.Of"/>), taken before the graph edit: an unnamed node is known by its output, which the factors take over.</summary>
    public string Name { get; } = LayerNames.Of(Node);

    public TensorDataType DataType => Tensor.DataType;

    /// <summary>Output pixels (product of the spatial dims of output 0, batch included); null when unknown.</summary>
    public long? OutputPixels => Pixels(Output);

    /// <summary>Input pixels (product of the spatial dims of input 0, batch included); null when unknown.</summary>
    public long? InputPixels => Pixels(Input);

    private static long? Pixels(long[]? shape) => shape is { Length: >= 2 } s ? s[0] * s.AsSpan(2).ToArray().Aggregate(1L, (a, b) => a * b) : null;
}

/// <summary>The outcome of factorizing one layer: the factors and the edit that installs them, or why it is skipped.</summary>
internal sealed class LayerOutcome
{
    public string? Skip { get; private init; }
    public string? Method { get; private init; }
    public int[]? Ranks { get; private init; }
    public long ParametersAfter { get; private init; }
    public double RelativeError { get; private init; }

    /// <summary>Extra words for the report line after the rank, e.g. " (energy 91.2%)".</summary>
    public string Detail { get; private init; } = "";

    /// <summary>Installs the factors in place of the layer and returns the new nodes in order.</summary>
    public Func<GraphEditor, IReadOnlyList<Node>>? Apply { get; private init; }

    public static LayerOutcome Skipped(string reason) => new() { Skip = reason };

    public static LayerOutcome Done(string method, int[] ranks, long parameters, double error, string detail, Func<GraphEditor, IReadOnlyList<Node>> apply) =>
        new() { Method = method, Ranks = ranks, ParametersAfter = parameters, RelativeError = error, Detail = detail, Apply = apply };
}
