using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Pruning;

/// <summary>A layer whose output channels a group removes: the node and the axis of its weight that holds them.</summary>
internal sealed record GroupMember(Node Node, int WeightAxis);

/// <summary>Positions to remove from input <paramref name="Input"/> (a constant) of <paramref name="Node"/> along <paramref name="ParamAxis"/>.</summary>
internal sealed record ParamSlice(Node Node, int Input, int ParamAxis, ChannelLayout Layout);

/// <summary>An element of a constant int64 shape input (Reshape shape, Resize sizes) that counts the positions of <paramref name="Layout"/>.</summary>
internal sealed record ShapeEdit(Node Node, int Input, int Element, ChannelLayout Layout);

/// <summary>A depthwise conv whose <c>group</c> attribute counts its input channels, laid out as <paramref name="InputLayout"/>.</summary>
internal sealed record GroupAttributeEdit(Node Node, ChannelLayout InputLayout);

/// <summary>
/// Everything one group of coupled channels touches, found by <see cref="ChannelTracer"/>: the member layers whose
/// output channels go, the values that carry the channels (with their layouts), and the edits removing channels needs.
/// </summary>
internal sealed class ChannelTrace(Node start, long channels)
{
    public Node Start { get; } = start;

    /// <summary>Channels of the group (output channels of every member).</summary>
    public long Channels { get; } = channels;

    public List<GroupMember> Members { get; } = [];
    public List<ParamSlice> Slices { get; } = [];
    public List<ShapeEdit> ShapeEdits { get; } = [];
    public List<GroupAttributeEdit> GroupEdits { get; } = [];

    /// <summary>Layers whose input channels shrink (Conv, ConvTranspose, Gemm, MatMul reading the channels), with the input read.</summary>
    public List<(Node Node, int Input)> Consumers { get; } = [];

    /// <summary>Every value carrying the channels, in the order found.</summary>
    public Dictionary<Value, ChannelLayout> Values { get; } = [];

    /// <summary>Why the group cannot be pruned; null when it can.</summary>
    public string? Failure { get; set; }

    /// <summary>The members in graph order.</summary>
    public List<GroupMember> OrderedMembers(Graph graph)
    {
        var index = new Dictionary<Node, int>();
        for (var i = 0; i < graph.Nodes.Count; i++) index[graph.Nodes[i]] = i;
        return [.. Members.OrderBy(m => index.GetValueOrDefault(m.Node, int.MaxValue))];
    }
}
