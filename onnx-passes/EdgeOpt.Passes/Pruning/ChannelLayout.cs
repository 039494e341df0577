namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Where the channels of a pruning group sit along one axis of a tensor: channel c occupies the positions
/// [(Offset + c)·Block, (Offset + c + 1)·Block) of axis <see cref="Axis"/>, whose size is Units·Block.
/// A layer's own output is (axis, 0, 1, channels); a Concat shifts Offset; a Flatten multiplies Block by the
/// flattened spatial size (channel-major blocks of H·W); a depthwise conv with multiplier m multiplies Block by m.
/// </summary>
/// <param name="Axis">The tensor axis holding the channels.</param>
/// <param name="Offset">The group's first channel, in units of <paramref name="Block"/> positions.</param>
/// <param name="Block">Consecutive positions per channel.</param>
/// <param name="Units">The axis size in units of <paramref name="Block"/>.</param>
internal readonly record struct ChannelLayout(int Axis, long Offset, long Block, long Units)
{
    /// <summary>The layout of a layer's own output: <paramref name="channels"/> channels along <paramref name="axis"/>.</summary>
    public static ChannelLayout Own(int axis, long channels) => new(axis, 0, 1, channels);

    /// <summary>The size of the axis.</summary>
    public long AxisSize => Units * Block;

    public ChannelLayout WithAxis(int axis) => this with { Axis = axis };

    /// <summary>The positions along the axis that <paramref name="removedChannels"/> (ascending) occupy, ascending.</summary>
    public List<long> Positions(IReadOnlyList<long> removedChannels)
    {
        var positions = new List<long>(checked((int)(removedChannels.Count * Block)));
        foreach (var c in removedChannels)
        {
            var start = (Offset + c) * Block;
            for (var j = 0L; j < Block; j++) positions.Add(start + j);
        }
        return positions;
    }

    public override string ToString() => $"axis {Axis}, offset {Offset}, block {Block}, {Units} units";
}
