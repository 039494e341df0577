using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Ranks the channels of a group for <see cref="PruneChannelsPass"/> in place of the weight norms: the pipeline can hand
/// one backed by calibration data, e.g. scoring each channel by how much the consumers' outputs change without it.
/// </summary>
public interface IChannelScorer
{
    /// <summary>
    /// One score per channel of <paramref name="group"/> (higher is more important; the lowest go first), or null to fall back
    /// to <see cref="ChannelGroup.NormScores"/>. <paramref name="model"/> is the model as pruned so far (groups go one at a time).
    /// </summary>
    IReadOnlyList<double>? Score(Model model, ChannelGroup group);
}

/// <summary>A group of channels removed together: the layers producing them and the layers reading them.</summary>
/// <param name="Members">Nodes whose output channels go together (one layer, or several coupled by Add/Mul/Concat joins), in graph order.</param>
/// <param name="MemberOutputs">The members' outputs (the activations holding the channels).</param>
/// <param name="Channels">Channels of the group (output channels of every member).</param>
/// <param name="Consumers">Layers whose input channels shrink with the group.</param>
/// <param name="Carriers">Nodes in between that carry the channels on (activations, BatchNormalization, pools, depthwise convs, joins, Concat, Flatten…), in graph order.</param>
/// <param name="NormScores">The criterion's score per channel: the L1 or L2 norms of its weights, summed over the members.</param>
public sealed record ChannelGroup(
    IReadOnlyList<string> Members,
    IReadOnlyList<string> MemberOutputs,
    long Channels,
    IReadOnlyList<ChannelConsumer> Consumers,
    IReadOnlyList<string> Carriers,
    IReadOnlyList<double> NormScores);

/// <summary>A layer reading a group's channels: node <paramref name="Node"/> reads them through input <paramref name="InputIndex"/> (value <paramref name="Input"/>).</summary>
public sealed record ChannelConsumer(string Node, string OpType, int InputIndex, string Input);
