using EdgeOpt.Onnx.Analysis;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Structured pruning: removes whole output channels of Conv/ConvTranspose (group 1) and output features of Gemm/MatMul
/// with constant weights, and everything downstream that the channels fed.
/// <para>Before: <c>y = Conv₂(Relu(BN(Conv₁(x, W₁, b₁))), W₂)</c> with W₁ [C, …], W₂ [K, C, …]. After: the same graph with
/// W₁[keep], b₁[keep], BN's γ, β, μ, σ²[keep] and W₂[:, keep] — C' = |keep| channels all along.</para>
/// <para>Ranking: channel c scores Σ_members ‖W_m[c]‖ (L1 or L2 over the member's output-channel slice), or what the
/// <see cref="IChannelScorer"/> says, or with <see cref="PruneChannelsOptions.RankByActivations"/> and activations from the
/// pipeline Σ_consumers ‖W_consumer[:, c]‖·RMS(x_c) on calibration data; the ⌊ratio·C⌋ lowest go (ties: lower index first), keeping at least
/// <see cref="PruneChannelsOptions.MinChannels"/> and a multiple of <see cref="PruneChannelsOptions.ChannelMultiple"/>.</para>
/// <para>Following the channels (<see cref="ChannelTracer"/>): activations and other element-wise ops (a per-channel constant
/// operand is sliced), BatchNormalization/InstanceNormalization (parameters sliced), pools, Resize (constant sizes fixed), Pad
/// (no channel padding), Transpose, Squeeze/Unsqueeze, reductions over other axes, depthwise convs (weights, bias and group
/// shrink; they pass the removal on), Concat on the channel axis (the channels keep their offset), and Flatten/Reshape into a
/// Gemm/MatMul (the removed channels' channel-major blocks of H·W features; a constant Reshape shape is fixed). Consumers that
/// read the channels — Conv, ConvTranspose, Gemm, MatMul — lose the matching input channels. Producers that meet at an
/// Add/Mul/Concat join form one group, removing the same channels on every branch. Anything else that sees the channels
/// (graph inputs and outputs, Shape, a Reshape that mixes channels, a grouped conv, an unknown op, a subgraph) leaves the group
/// alone, reported with the reason. Graph input and output shapes never change.</para>
/// Groups go one at a time in graph order, each traced on the model as pruned so far; declared value types lose the
/// removed channels. Kept weights are copied bit for bit. Exact when the removed channels are zero where they are read
/// (e.g. all-zero weights and bias with BN β = μ·γ/σ); lossy otherwise. Only the main graph is pruned.
/// <para>Repair (<see cref="PruneChannelsOptions.Repair"/>, when <see cref="PassContext.Activations"/> is set): after each
/// group, every consumer (Conv, Gemm with transA = 0, MatMul with a rank-2 weight) is refit on calibration data:
/// W', b' = argmin ‖[X', 1]·[W'; b'] − Y‖² + λ‖·‖², X' its input in the model as pruned so far (im2col rows at sampled
/// positions for a Conv), Y its output in the model the pass received (the kept output channels when its own were pruned
/// earlier). The kept channels then absorb what the removed ones carried, as far as they are linearly related, and the
/// error of earlier groups is corrected along the way. The per-layer relative errors ‖Y − Y'‖/‖Y‖ before and after are
/// reported (<see cref="ChannelPruneResult.Repair"/>); a refit that does not lower the error is not written.</para>
/// </summary>
public sealed class PruneChannelsPass(PruneChannelsOptions options) : Pass<PruneChannelsOptions>(options)
{
    public const string PassId = "prune-channels";

    public PruneChannelsPass() : this(new PruneChannelsOptions()) { }

    public override string Id => PassId;
    public override string Description => "Removes the lowest-norm output channels of Conv/Gemm/MatMul and everything they fed (structured, smaller and faster)";
    public override bool IsExact => false;

    /// <summary>What the latest <see cref="Pass{TOptions}.Run"/> did, for tools that want numbers rather than report lines.</summary>
    public ChannelPruneResult? LastResult { get; private set; }

    /// <summary>
    /// The groups the pass would consider on <paramref name="model"/> as it is, without editing it: each layer that starts a
    /// group, the group (or why it cannot be pruned). For sensitivity analyses that prune one group at a time.
    /// </summary>
    public static IReadOnlyList<ChannelGroupCandidate> Analyze(Model model, PruneChannelsOptions options)
    {
        options.ThrowIfInvalid(PassId);
        var shapes = ShapeInference.Infer(model, new ShapeInferenceOptions { InputShapes = options.InputShapes });
        var seen = new HashSet<Node>();
        var result = new List<ChannelGroupCandidate>();
        foreach (var start in model.Graph.Nodes.Where(IsLayer))
        {
            if (!seen.Add(start)) continue;
            var trace = ChannelTracer.Trace(model, shapes, start);
            seen.UnionWith(trace.Members.Select(m => m.Node));
            var group = trace.Failure == null ? Describe(trace, model.Graph, options.Criterion) : null;
            result.Add(new ChannelGroupCandidate(LayerNames.Of(start), start.OpType, group, trace.Failure));
        }
        return result;
    }

    protected override void Execute(Model model, PassContext context, PassReport report)
    {
        var graph = model.Graph;
        graph.SortTopologically();
        var shapes = Infer(model);
        var macsBefore = graph.Nodes.ToDictionary(n => n, n => CostModel.Macs(n, shapes));
        var statsBefore = ModelStatistics.Compute(model, shapes);
        var done = new HashSet<Node>();
        var pruned = new List<(ChannelTrace Trace, List<long> Removed, double Ratio, string Ranking)>();
        var repair = Options.Repair && context.Activations != null;
        var reference = repair ? ModelReader.Copy(model) : null;
        var origins = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        var repairs = new List<LayerRepair>();
        var statistics = new RepairStatistics();
        foreach (var start in graph.Nodes.Where(IsLayer).ToList())
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if (!done.Add(start)) continue;
            if (Options.Selection.Reason(start) is { } filtered)
            {
                report.Skip(LayerNames.Label(start), filtered);
                continue;
            }
            var trace = ChannelTracer.Trace(model, shapes, start);
            var members = trace.OrderedMembers(graph);
            done.UnionWith(members.Select(m => m.Node));
            var outcome = Prune(model, trace, members, context);
            if (outcome.Skip != null)
            {
                SkipGroup(report, start, members, outcome.Skip);
                continue;
            }
            pruned.Add((trace, outcome.Removed!, outcome.Ratio, outcome.Ranking!));
            TrackOrigins(origins, trace, members, outcome.Removed!);
            if (repair) repairs.AddRange(Repair(model, reference!, trace, origins, context, statistics, report));
            shapes = Infer(model);
        }
        LastResult = Summarize(model, pruned, macsBefore, statsBefore, shapes, report) with
        {
            Repair = repair ? new RepairSummary(true, statistics.Samples, statistics.Seconds, repairs) : RepairSummary.Off,
        };
    }

    /// <summary>
    /// Records, per member output, which channel of the received model each remaining channel is (so a consumer whose own
    /// outputs were pruned in an earlier group is fitted to the right reference channels).
    /// </summary>
    private static void TrackOrigins(Dictionary<string, List<long>> origins, ChannelTrace trace, List<GroupMember> members, List<long> removed)
    {
        var drop = removed.ToHashSet();
        foreach (var m in members)
        {
            var name = m.Node.Output(0).Name;
            var before = origins.TryGetValue(name, out var known) ? known : [.. Enumerable.Range(0, (int)trace.Channels).Select(c => (long)c)];
            origins[name] = [.. before.Where((_, i) => !drop.Contains(i))];
        }
    }

    /// <summary>Refits the consumers of a group just pruned (see the class remarks); reports each.</summary>
    private List<LayerRepair> Repair(Model model, Model reference, ChannelTrace trace, Dictionary<string, List<long>> origins,
        PassContext context, RepairStatistics statistics, PassReport report)
    {
        var results = new List<LayerRepair>();
        var requests = new List<RefitRequest>();
        foreach (var node in trace.Consumers.Select(c => c.Node).Distinct())
        {
            var request = LayerRefit.Describe(node, origins.GetValueOrDefault(node.Output(0).Name), sparse: false, out var reason);
            if (request != null) requests.Add(request);
            else results.Add(LayerRepair.Skipped(LayerNames.Of(node), node.OpType, 0, reason!));
        }
        results.AddRange(LayerRefit.Run(model, reference, requests, context.Activations!, Options.RepairSettings, statistics, context.Cancellation));
        foreach (var r in results)
        {
            var label = $"{r.Node} ({r.OpType})";
            if (r.Applied) report.Change(label, $"repair: {r.Describe()}");
            else report.Skip(label, $"repair: {r.Describe()}");
        }
        return results;
    }

    /// <summary>
    /// A node that can start a group: Conv/ConvTranspose of group 1, Gemm or MatMul, with a constant weight (or an initializer
    /// that is also a graph input, reported as skipped with the reason).
    /// </summary>
    private static bool IsLayer(Node node) =>
        node.IsOnnxDomain && PruneOps.WeightedOps.Contains(node.OpType) && node.Input(ConvInput.W) is { Initializer: not null } or { IsConstant: true }
        && node.GetInt(AttrNames.Group, 1) == 1;

    private ShapeInferenceResult Infer(Model model) => ShapeInference.Infer(model, new ShapeInferenceOptions { InputShapes = Options.InputShapes });

    /// <summary>Ranks and removes the channels of one traced group; the reason when it leaves the group alone.</summary>
    private (string? Skip, List<long>? Removed, double Ratio, string? Ranking) Prune(Model model, ChannelTrace trace, List<GroupMember> members, PassContext context)
    {
        if (trace.Failure != null) return (trace.Failure, null, 0, null);
        if (members.Count > 1 && !Options.PruneCoupledGroups)
        {
            return ($"its channels are coupled with {string.Join(", ", members.Where(m => m.Node != trace.Start).Select(m => $"'{LayerNames.Of(m.Node)}'"))} through joins (PruneCoupledGroups is off)", null, 0, null);
        }
        foreach (var m in members)
        {
            if (Options.Selection.ExcludedReason(m.Node) is { } excluded) return ($"group member {LayerNames.Label(m.Node)}: {excluded}", null, 0, null);
        }
        var ratio = members.Select(m => Options.LayerRatios.TryGetValue(LayerNames.Of(m.Node), out var r) ? r : (double?)null).FirstOrDefault(r => r != null) ?? Options.Ratio;
        var kept = Options.ChannelsKept(trace.Channels, ratio);
        if (kept >= trace.Channels)
        {
            return ($"ratio {ratio:0.###} removes none of its {trace.Channels} channels (MinChannels {Options.MinChannels}, ChannelMultiple {Options.ChannelMultiple})", null, 0, null);
        }
        var group = Describe(trace, model.Graph, Options.Criterion);
        var (scores, ranking) = Rank(model, trace, group, context);
        if (scores.Count != trace.Channels || scores.Any(double.IsNaN))
        {
            return ($"the channel scorer gave {scores.Count} scores (NaN included: {scores.Any(double.IsNaN)}) for {trace.Channels} channels", null, 0, null);
        }
        var removed = Enumerable.Range(0, scores.Count).OrderBy(c => scores[c]).ThenBy(c => c)
            .Take((int)(trace.Channels - kept)).Select(c => (long)c).Order().ToList();
        ChannelSurgery.Apply(trace, removed, new GraphEditor(model.Graph));
        return (null, removed, ratio, ranking);
    }

    /// <summary>The scores of a group and how they were made: the scorer, the activations, or the weight norms.</summary>
    private (IReadOnlyList<double> Scores, string Ranking) Rank(Model model, ChannelTrace trace, ChannelGroup group, PassContext context)
    {
        if (Options.Scorer?.Score(model, group) is { } scored) return (scored, "scorer");
        if (Options.RankByActivations && context.Activations != null)
        {
            var fromData = ActivationRanking.Score(model, trace, context.Activations, context.Cancellation, out var problem);
            return fromData != null ? (fromData, "activations") : (group.NormScores, $"{Options.Criterion}: activations cannot rank it, {problem}");
        }
        return (group.NormScores, Options.Criterion.ToString());
    }

    private static ChannelGroup Describe(ChannelTrace trace, Graph graph, ChannelCriterion criterion)
    {
        var members = trace.OrderedMembers(graph);
        var norms = new double[trace.Channels];
        foreach (var m in members)
        {
            var w = m.Node.Input(ConvInput.W)!.Constant!;
            var memberNorms = WeightTensors.SliceNorms(FloatTensors.ToDoubles(w)!, w.DimsArray(), m.WeightAxis, criterion);
            for (var c = 0; c < norms.Length; c++) norms[c] += memberNorms[c];
        }
        var ends = members.Select(m => m.Node).Concat(trace.Consumers.Select(c => c.Node)).ToHashSet();
        var carriers = trace.Values.Keys.SelectMany(v => v.Uses.Select(u => u.Node).Append(v.Producer!)).Where(n => !ends.Contains(n)).ToHashSet();
        return new ChannelGroup(
            [.. members.Select(m => LayerNames.Of(m.Node))],
            [.. members.Select(m => m.Node.Output(0).Name)],
            trace.Channels,
            [.. trace.Consumers.Select(c => new ChannelConsumer(LayerNames.Of(c.Node), c.Node.OpType, c.Input, c.Node.Input(c.Input)!.Name))],
            [.. graph.Nodes.Where(carriers.Contains).Select(LayerNames.Of)],
            norms);
    }

    private static void SkipGroup(PassReport report, Node start, List<GroupMember> members, string reason)
    {
        report.Skip(LayerNames.Label(start), reason);
        foreach (var m in members.Where(m => m.Node != start)) report.Skip(LayerNames.Label(m.Node), $"in the group of '{LayerNames.Of(start)}': {reason}");
    }

    private ChannelPruneResult Summarize(Model model, List<(ChannelTrace Trace, List<long> Removed, double Ratio, string Ranking)> pruned,
        Dictionary<Node, long?> macsBefore, ModelStatistics statsBefore, ShapeInferenceResult shapes, PassReport report)
    {
        var layers = new List<PrunedLayer>();
        foreach (var (trace, removed, ratio, ranking) in pruned)
        {
            var kept = trace.Channels - removed.Count;
            var members = trace.OrderedMembers(model.Graph);
            var names = members.Select(m => LayerNames.Of(m.Node)).ToList();
            var consumers = trace.Consumers.Select(c => LayerNames.Of(c.Node)).Distinct().ToList();
            foreach (var m in members)
            {
                var before = macsBefore.GetValueOrDefault(m.Node);
                var after = CostModel.Macs(m.Node, shapes);
                layers.Add(new PrunedLayer(LayerNames.Of(m.Node), m.Node.OpType, trace.Channels, kept, before, after, names, removed));
                var group = names.Count > 1 ? $", coupled with {string.Join(", ", names.Where(n => n != LayerNames.Of(m.Node)))}" : "";
                var readers = consumers.Count > 0 ? $"; inputs of {string.Join(", ", consumers)} shrink" : "";
                report.Change(LayerNames.Label(m.Node), $"output channels {trace.Channels} → {kept} ({ranking}, ratio {ratio:0.###}{group}); MACs {Macs(before)} → {Macs(after)}{readers}");
            }
        }
        var statsAfter = ModelStatistics.Compute(model, shapes);
        var result = new ChannelPruneResult(layers, statsBefore.Macs, statsAfter.Macs, statsBefore.Parameters, statsAfter.Parameters);
        if (pruned.Count > 0)
        {
            var macs = result.MacsBefore == null ? "MACs unknown (dynamic shapes: set InputShapes)" : $"MACs {Macs(result.MacsBefore)} → {Macs(result.MacsAfter)}";
            report.Change("model", $"{layers.Count} layers in {pruned.Count} groups pruned; {macs}; " +
                $"parameters {result.ParametersBefore:N0} → {result.ParametersAfter:N0}");
        }
        return result;
    }

    private static string Macs(long? macs) => macs is { } m ? m.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "?";
}

/// <summary>A layer that starts a channel group in <see cref="PruneChannelsPass.Analyze"/>: the group, or why it cannot be pruned.</summary>
public sealed record ChannelGroupCandidate(string Node, string OpType, ChannelGroup? Group, string? SkipReason);

/// <summary>One pruned layer: output channels and MACs before and after, the group it went with and the channels removed (original indices).</summary>
public sealed record PrunedLayer(string Node, string OpType, long ChannelsBefore, long ChannelsAfter, long? MacsBefore, long? MacsAfter,
    IReadOnlyList<string> Group, IReadOnlyList<long> RemovedChannels);

/// <summary>The numbers of one <see cref="PruneChannelsPass"/> run (MACs null when some shape is unknown: set InputShapes).</summary>
public sealed record ChannelPruneResult(IReadOnlyList<PrunedLayer> Layers, long? MacsBefore, long? MacsAfter, long ParametersBefore, long ParametersAfter)
{
    /// <summary>The refit of the consumers from calibration data (<see cref="RepairSummary.Off"/> when it did not run).</summary>
    public RepairSummary Repair { get; init; } = RepairSummary.Off;
}
