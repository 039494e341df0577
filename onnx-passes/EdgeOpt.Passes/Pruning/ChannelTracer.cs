using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Finds the group of channels that must go together with a layer's output channels, without editing anything.
/// Starting from the layer's output it floods, forwards and backwards, through every value carrying those channels:
/// element-wise ops, activations, BatchNormalization, pools, Resize, Pad, Transpose, Squeeze/Unsqueeze, depthwise convs
/// (which pass channels on), Concat (which shifts them) and Flatten/Reshape into a Gemm or MatMul (channel-major blocks).
/// It stops at the layers that read the channels (their input channels shrink) and at the layers that produce them (they
/// join the group: a residual Add couples every branch). Anything else that sees the channels — a graph input or output, a
/// Shape, a channel-mixing Reshape, a grouped conv, an unknown op, a subgraph — fails the group with the reason.
/// </summary>
internal sealed class ChannelTracer
{
    /// <summary>Output ports are encoded as −(index + 1) next to input indices.</summary>
    private static int OutputPort(int index) => -(index + 1);

    private readonly Graph _graph;
    private readonly ShapeInferenceResult _shapes;
    private readonly long _opset;
    private readonly ChannelTrace _trace;
    private readonly Queue<Value> _work = new();
    private readonly HashSet<(Node, int)> _visited = [];
    private readonly HashSet<(Node, int, int)> _sliced = [];

    private ChannelTracer(Graph graph, ShapeInferenceResult shapes, long opset, ChannelTrace trace)
    {
        _graph = graph;
        _shapes = shapes;
        _opset = opset;
        _trace = trace;
    }

    /// <summary>The group of <paramref name="start"/>'s output channels in the main graph of <paramref name="model"/>.</summary>
    public static ChannelTrace Trace(Model model, ShapeInferenceResult shapes, Node start)
    {
        var info = MemberInfo(start, out var problem);
        var trace = new ChannelTrace(start, info?.Units ?? 0);
        if (info == null)
        {
            trace.Failure = problem;
            return trace;
        }
        var tracer = new ChannelTracer(model.Graph, shapes, model.OpsetVersion("") ?? 1, trace);
        tracer.Run(start);
        return trace;
    }

    /// <summary>
    /// Whether <paramref name="node"/> can be a member (its output channels removable): Conv and ConvTranspose with group 1,
    /// Gemm and MatMul, each with a constant float weight. Returns the weight axis holding the output channels and their count.
    /// </summary>
    public static (int WeightAxis, long Units)? MemberInfo(Node node, out string? problem)
    {
        problem = null;
        if (!node.IsOnnxDomain || !PruneOps.WeightedOps.Contains(node.OpType))
        {
            problem = $"{node.OpType} has no weight whose output channels could go";
            return null;
        }
        var wv = node.Input(ConvInput.W);
        var w = wv?.Constant;
        problem = wv == null ? "has no weight input"
            : w == null ? WeightTensors.NotConstantReason(wv)
            : !WeightTensors.IsPrunable(w.DataType) ? $"weight '{wv.Name}' is {TensorDataTypes.OnnxName(w.DataType)}; only float, float16 and double are pruned"
            : null;
        if (problem != null) return null;
        var isConv = node.OpType is OpTypes.Conv or OpTypes.ConvTranspose;
        if (isConv && node.GetInt(AttrNames.Group, 1) != 1)
        {
            problem = $"grouped {node.OpType} (group {node.GetInt(AttrNames.Group, 1)}): its channels follow its input's";
            return null;
        }
        var minRank = isConv ? 3 : 2;
        if (w!.Rank < minRank || (node.Is(OpTypes.Gemm) && w.Rank != 2))
        {
            problem = $"weight '{wv!.Name}' has rank {w.Rank}";
            return null;
        }
        var axis = node.OpType switch
        {
            OpTypes.Conv => 0,
            OpTypes.ConvTranspose => 1,
            OpTypes.Gemm => node.GetInt(AttrNames.TransB, 0) != 0 ? 0 : 1,
            _ => w.Rank - 1,
        };
        return (axis, w.Dims[axis]);
    }

    private void Run(Node start)
    {
        var output = start.Output(0);
        if (!TrackOutputOfMember(start, output)) return;
        while (_trace.Failure == null && _work.TryDequeue(out var v))
        {
            var layout = _trace.Values[v];
            if (v.Producer is { } p) Visit(p, OutputPort(v.ProducerOutputIndex), layout);
            foreach (var use in v.Uses.ToList())
            {
                if (_trace.Failure != null) return;
                if (use.Node.Graph != _graph)
                {
                    Fail($"'{v.Name}' is read inside a subgraph of {(use.Node.Graph.ParentNode is { } owner ? LayerNames.Label(owner) : "?")}");
                    return;
                }
                Visit(use.Node, use.InputIndex, layout);
            }
        }
    }

    private bool TrackOutputOfMember(Node member, Value output)
    {
        var rank = Rank(output);
        var axis = member.OpType switch
        {
            OpTypes.MatMul when rank == null => -1,
            OpTypes.MatMul => rank!.Value - 1,
            _ => 1,
        };
        if (axis < 0) return Fail($"the rank of '{output.Name}' is unknown");
        return Track(output, ChannelLayout.Own(axis, _trace.Channels));
    }

    private bool Fail(string reason)
    {
        _trace.Failure ??= reason;
        return false;
    }

    /// <summary>
    /// Records that <paramref name="v"/> carries the group's channels as <paramref name="layout"/>. <paramref name="via"/>, the node
    /// that led here, has handled all its ports already: it is not visited again from <paramref name="v"/>.
    /// </summary>
    private bool Track(Value v, ChannelLayout layout, Node? via = null)
    {
        if (via != null) MarkVisited(via, v);
        if (_trace.Values.TryGetValue(v, out var known))
        {
            return known == layout || Fail($"'{v.Name}' is reached with two channel layouts ({known}; {layout})");
        }
        if (v.IsGraphOutput) return Fail($"'{v.Name}' is a graph output (graph outputs keep their shapes)");
        if (v.IsGraphInput) return Fail($"'{v.Name}' is a graph input (graph inputs keep their shapes)");
        if (v.IsInitializer || v.IsConstant) return Fail($"'{v.Name}' is a constant joined with the channels");
        if (v.Graph != _graph) return Fail($"'{v.Name}' comes from an enclosing graph");
        if (v.Producer == null) return Fail($"'{v.Name}' has no producer");
        _trace.Values[v] = layout;
        _work.Enqueue(v);
        return true;
    }

    private void MarkVisited(Node node, Value v)
    {
        if (v.Producer == node) _visited.Add((node, OutputPort(v.ProducerOutputIndex)));
        for (var i = 0; i < node.Inputs.Count; i++)
        {
            if (ReferenceEquals(node.Inputs[i], v)) _visited.Add((node, i));
        }
    }

    private void Slice(Node node, int input, int paramAxis, ChannelLayout layout)
    {
        if (_sliced.Add((node, input, paramAxis))) _trace.Slices.Add(new ParamSlice(node, input, paramAxis, layout with { Axis = paramAxis }));
    }

    private int? Rank(Value? v) => v == null ? null : _shapes.TypeOf(v)?.Rank ?? v.TensorType?.Rank;

    private long[]? StaticShape(Value? v) => v == null ? null : _shapes.StaticShapeOf(v) ?? v.TensorType?.StaticShape;

    private long? DimAt(Value v, int axis)
    {
        var shape = _shapes.TypeOf(v)?.Shape ?? v.TensorType?.Shape;
        return shape != null && axis < shape.Count ? shape[axis].Value : null;
    }

    private void Visit(Node node, int port, ChannelLayout layout)
    {
        if (!_visited.Add((node, port))) return;
        if (!node.IsOnnxDomain)
        {
            Fail($"{LayerNames.Label(node)} of domain '{node.Domain}' reads the channels");
            return;
        }
        var op = node.OpType;
        if (op is OpTypes.Conv or OpTypes.ConvTranspose) VisitConv(node, port, layout);
        else if (op is OpTypes.Gemm or OpTypes.MatMul) VisitMatrix(node, port, layout);
        else if (op is OpTypes.BatchNormalization) VisitNormalization(node, port, layout, BatchNormInput.Scale, BatchNormInput.Var);
        else if (op is OpTypes.InstanceNormalization) VisitNormalization(node, port, layout, InstanceNormInput.Scale, InstanceNormInput.Bias);
        else if (PruneOps.Unary.Contains(op)) VisitUnary(node, port, layout);
        else if (PruneOps.Pools.Contains(op)) VisitPool(node, port, layout);
        else if (PruneOps.Elementwise.Contains(op)) VisitElementwise(node, port, layout);
        else if (op is OpTypes.Concat) VisitConcat(node, port, layout);
        else if (op is OpTypes.Flatten or OpTypes.Reshape) VisitFlatten(node, port, layout);
        else if (op is OpTypes.Squeeze or OpTypes.Unsqueeze) VisitSqueeze(node, port, layout);
        else if (op is OpTypes.Transpose) VisitTranspose(node, port, layout);
        else if (op is OpTypes.Resize or OpTypes.Upsample) VisitResize(node, port, layout);
        else if (op is OpTypes.Pad) VisitPad(node, port, layout);
        else if (PruneOps.Reductions.Contains(op)) VisitReduce(node, port, layout);
        else if (op is OpTypes.Shape) Fail($"{LayerNames.Label(node)} reads the channel count");
        else Fail($"{LayerNames.Label(node)} reads the channels and channel pruning does not follow {op}");
    }

    /// <summary>Extra outputs (MaxPool indices, Dropout mask, BatchNormalization statistics) that would see the channels.</summary>
    private bool ExtraOutputsUnused(Node node)
    {
        for (var i = 1; i < node.Outputs.Count; i++)
        {
            if (node.Outputs[i] is { IsUsed: true } extra) return Fail($"{LayerNames.Label(node)}: output '{extra.Name}' is used");
        }
        return true;
    }

    /// <summary>A node of one data input (0) and one output carrying the same layout; other inputs must not be the channels.</summary>
    private void PassThrough(Node node, int port, ChannelLayout inLayout, ChannelLayout outLayout)
    {
        if (port > 0)
        {
            Fail($"{LayerNames.Label(node)} reads the channels as input {port}");
            return;
        }
        if (!ExtraOutputsUnused(node)) return;
        if (port == 0) Track(node.Output(0), outLayout, node);
        else if (node.Input(0) is { } x) Track(x, inLayout, node);
        else Fail($"{LayerNames.Label(node)} has no data input");
    }

    private void VisitUnary(Node node, int port, ChannelLayout layout) => PassThrough(node, port, layout, layout);

    private void VisitPool(Node node, int port, ChannelLayout layout)
    {
        if (layout.Axis != 1)
        {
            Fail($"{LayerNames.Label(node)} pools axis 1 but the channels are on axis {layout.Axis}");
            return;
        }
        PassThrough(node, port, layout, layout);
    }

    private void VisitConv(Node node, int port, ChannelLayout layout)
    {
        if (port == ConvInput.W || port == ConvInput.B || port > ConvInput.B)
        {
            Fail($"{LayerNames.Label(node)} reads the channels as its weight or bias");
            return;
        }
        var w = node.Input(ConvInput.W)?.Constant;
        var group = node.GetInt(AttrNames.Group, 1);
        if (w == null || !WeightTensors.IsPrunable(w.DataType) || w.Rank < 3)
        {
            Fail($"{LayerNames.Label(node)} has no constant float weight to shrink");
            return;
        }
        if (layout.Axis != 1)
        {
            Fail($"{LayerNames.Label(node)} reads channels on axis 1 but they are on axis {layout.Axis}");
            return;
        }
        var transposed = node.Is(OpTypes.ConvTranspose);
        if (group == 1 && port == ConvInput.X)
        {
            Slice(node, ConvInput.W, transposed ? 0 : 1, layout);
            _trace.Consumers.Add((node, ConvInput.X));
            return;
        }
        if (group == 1)
        {
            AddMember(node, layout);
            return;
        }
        if (transposed || w.Dims[1] != 1 || w.Dims[0] % group != 0)
        {
            Fail($"grouped {LayerNames.Label(node)} (group {group}) cannot drop single channels");
            return;
        }
        VisitDepthwise(node, port, layout, group, w.Dims[0] / group);
    }

    /// <summary>A depthwise conv (group = input channels, multiplier m): output channel k reads input channel k / m only.</summary>
    private void VisitDepthwise(Node node, int port, ChannelLayout layout, long group, long multiplier)
    {
        ChannelLayout input, output;
        if (port == ConvInput.X)
        {
            input = layout;
            output = layout with { Block = layout.Block * multiplier };
        }
        else
        {
            if (layout.Block % multiplier != 0)
            {
                Fail($"depthwise {LayerNames.Label(node)} has {multiplier} outputs per input channel; the group removes single outputs");
                return;
            }
            output = layout;
            input = layout with { Block = layout.Block / multiplier };
        }
        if (input.AxisSize != group)
        {
            Fail($"grouped {LayerNames.Label(node)} (group {group}) has {input.AxisSize} input channels: not depthwise");
            return;
        }
        if (!ExtraOutputsUnused(node) || !BiasIsConstant(node, ConvInput.B)) return;
        Slice(node, ConvInput.W, 0, output);
        if (node.Input(ConvInput.B) != null) Slice(node, ConvInput.B, 0, output);
        if (_trace.GroupEdits.All(g => g.Node != node)) _trace.GroupEdits.Add(new GroupAttributeEdit(node, input));
        if (port == ConvInput.X) Track(node.Output(0), output, node);
        else Track(node.Input(ConvInput.X)!, input, node);
    }

    private bool BiasIsConstant(Node node, int index) =>
        node.Input(index) is not { } b || b.Constant != null || Fail($"{LayerNames.Label(node)}: bias '{b.Name}' is not a constant");

    private void AddMember(Node node, ChannelLayout layout)
    {
        var info = MemberInfo(node, out var problem);
        if (info == null)
        {
            Fail($"{LayerNames.Label(node)} produces the channels but {problem}");
            return;
        }
        var (weightAxis, units) = info.Value;
        if (layout.Offset != 0 || layout.Block != 1 || units != _trace.Channels)
        {
            Fail($"{LayerNames.Label(node)} produces {units} channels where the group has {_trace.Channels} ({layout})");
            return;
        }
        if (!ExtraOutputsUnused(node)) return;
        _trace.Members.Add(new GroupMember(node, weightAxis));
        Slice(node, ConvInput.W, weightAxis, layout);
        if (node.Input(ConvInput.B) is not { } biasValue) return;
        if (biasValue.Constant is not { } bias)
        {
            Fail($"{LayerNames.Label(node)}: bias '{biasValue.Name}' is not a constant");
            return;
        }
        if (bias.Rank == 0 || bias.Dims[^1] == 1) return;
        if (bias.Dims[^1] != units)
        {
            Fail($"{LayerNames.Label(node)}: bias '{biasValue.Name}' [{string.Join(",", bias.Dims)}] does not match {units} channels");
            return;
        }
        Slice(node, ConvInput.B, bias.Rank - 1, layout);
    }

    private void VisitMatrix(Node node, int port, ChannelLayout layout)
    {
        if (port < 0)
        {
            var rank = Rank(node.Output(0));
            var expected = node.Is(OpTypes.Gemm) ? 1 : (rank ?? 0) - 1;
            if (rank == null || layout.Axis != expected)
            {
                Fail($"{LayerNames.Label(node)} produces channels on axis {expected}, the group has them on axis {layout.Axis}");
                return;
            }
            AddMember(node, layout);
            return;
        }
        if (port != GemmInput.A)
        {
            Fail($"{LayerNames.Label(node)} reads the channels as input {port}");
            return;
        }
        var b = node.Input(GemmInput.B)?.Constant;
        if (b == null || !WeightTensors.IsPrunable(b.DataType) || b.Rank < 2 || (node.Is(OpTypes.Gemm) && b.Rank != 2))
        {
            Fail($"{LayerNames.Label(node)} has no constant float weight to shrink");
            return;
        }
        int readAxis, weightAxis;
        if (node.Is(OpTypes.Gemm))
        {
            readAxis = node.GetInt(AttrNames.TransA, 0) != 0 ? 0 : 1;
            weightAxis = node.GetInt(AttrNames.TransB, 0) != 0 ? 1 : 0;
        }
        else
        {
            readAxis = (Rank(node.Input(GemmInput.A)) ?? 0) - 1;
            weightAxis = b.Rank - 2;
        }
        if (layout.Axis != readAxis)
        {
            Fail($"{LayerNames.Label(node)} reduces axis {readAxis} of its input, the channels are on axis {layout.Axis}");
            return;
        }
        if (b.Dims[weightAxis] != layout.AxisSize)
        {
            Fail($"{LayerNames.Label(node)}: weight axis {weightAxis} has {b.Dims[weightAxis]} rows for {layout.AxisSize} input features");
            return;
        }
        Slice(node, GemmInput.B, weightAxis, layout);
        _trace.Consumers.Add((node, GemmInput.A));
    }

    /// <summary>BatchNormalization (scale, B, mean, var) or InstanceNormalization (scale, B): per-channel parameters shrink with the channels.</summary>
    private void VisitNormalization(Node node, int port, ChannelLayout layout, int firstParam, int lastParam)
    {
        if (port > 0)
        {
            Fail($"{LayerNames.Label(node)} reads the channels as a parameter");
            return;
        }
        if (layout.Axis != 1)
        {
            Fail($"{LayerNames.Label(node)} normalizes axis 1 but the channels are on axis {layout.Axis}");
            return;
        }
        for (var i = firstParam; i <= lastParam; i++)
        {
            var p = node.Input(i);
            var t = p?.Constant;
            if (p == null || t == null || t.Rank != 1 || t.Dims[0] != layout.AxisSize)
            {
                Fail($"{LayerNames.Label(node)}: parameter {i} is not a constant vector of {layout.AxisSize}");
                return;
            }
            Slice(node, i, 0, layout);
        }
        PassThrough(node, port, layout, layout);
    }

    /// <summary>
    /// Element-wise ops with broadcasting. A constant operand that spans the channels is sliced; a computed operand that
    /// spans them carries the same channels (a join: Add of two branches couples their producers); size 1 broadcasts.
    /// </summary>
    private void VisitElementwise(Node node, int port, ChannelLayout layout)
    {
        var anchor = port >= 0 ? node.Input(port)! : node.Output(0);
        var rank = Rank(anchor);
        if (rank == null)
        {
            Fail($"{LayerNames.Label(node)}: the rank of '{anchor.Name}' is unknown");
            return;
        }
        if (port < 0 && !ExtraOutputsUnused(node)) return;
        for (var i = 0; i < node.Inputs.Count && _trace.Failure == null; i++)
        {
            var u = node.Inputs[i];
            if (u == null || i == port) continue;
            if (u.Constant is { } k) SliceOperand(node, i, k, rank.Value, layout);
            else JoinOperand(node, u, rank.Value, layout);
        }
        if (port >= 0 && _trace.Failure == null)
        {
            var outRank = Rank(node.Output(0));
            if (outRank != rank) Fail(outRank == null ? $"{LayerNames.Label(node)}: the rank of its output is unknown" : $"{LayerNames.Label(node)} broadcasts '{anchor.Name}' to a higher rank");
            else Track(node.Output(0), layout, node);
        }
    }

    private void SliceOperand(Node node, int input, Tensor k, int rank, ChannelLayout layout)
    {
        if (k.Rank > rank)
        {
            Fail($"{LayerNames.Label(node)}: constant input {input} of rank {k.Rank} broadcasts the channels to a higher rank");
            return;
        }
        var axis = layout.Axis - (rank - k.Rank);
        if (axis < 0 || k.Dims[axis] == 1) return;
        if (k.Dims[axis] != layout.AxisSize)
        {
            Fail($"{LayerNames.Label(node)}: constant input {input} has {k.Dims[axis]} entries on the channel axis, not {layout.AxisSize}");
            return;
        }
        if (WeightTensors.ElementSize(k.DataType) == 0)
        {
            Fail($"{LayerNames.Label(node)}: constant input {input} is {TensorDataTypes.OnnxName(k.DataType)}");
            return;
        }
        Slice(node, input, axis, layout);
    }

    private void JoinOperand(Node node, Value u, int rank, ChannelLayout layout)
    {
        if (Rank(u) != rank)
        {
            Fail($"{LayerNames.Label(node)}: '{u.Name}' has rank {Rank(u)?.ToString() ?? "?"} next to rank {rank}");
            return;
        }
        var dim = DimAt(u, layout.Axis);
        if (dim == 1) return;
        if (dim != null && dim != layout.AxisSize)
        {
            Fail($"{LayerNames.Label(node)}: '{u.Name}' has {dim} entries on the channel axis, not {layout.AxisSize}");
            return;
        }
        Track(u, layout, node);
    }

    private void VisitConcat(Node node, int port, ChannelLayout layout)
    {
        var rank = Rank(node.Output(0));
        if (rank == null)
        {
            Fail($"{LayerNames.Label(node)}: the rank of its output is unknown");
            return;
        }
        var axis = (int)node.GetInt(AttrNames.Axis, 0);
        if (axis < 0) axis += rank.Value;
        if (axis != layout.Axis)
        {
            VisitElementwise(node, port, layout);
            return;
        }
        var sizes = new long[node.Inputs.Count];
        for (var i = 0; i < sizes.Length; i++)
        {
            var size = node.Inputs[i] is { } u ? (i == port ? layout.AxisSize : DimAt(u, axis)) : 0;
            if (size == null)
            {
                Fail($"{LayerNames.Label(node)}: input {i} has no static size on the concatenated axis");
                return;
            }
            sizes[i] = size.Value;
        }
        if (port >= 0) ConcatForward(node, port, layout, sizes);
        else ConcatBackward(node, layout, sizes);
    }

    private void ConcatForward(Node node, int port, ChannelLayout layout, long[] sizes)
    {
        var start = sizes.Take(port).Sum();
        var total = sizes.Sum();
        if (start % layout.Block != 0 || total % layout.Block != 0)
        {
            Fail($"{LayerNames.Label(node)} places blocks of {layout.Block} at offset {start} of {total}");
            return;
        }
        Track(node.Output(0), layout with { Offset = layout.Offset + start / layout.Block, Units = total / layout.Block }, node);
    }

    private void ConcatBackward(Node node, ChannelLayout layout, long[] sizes)
    {
        var first = layout.Offset * layout.Block;
        var end = (layout.Offset + _trace.Channels) * layout.Block;
        var start = 0L;
        for (var i = 0; i < sizes.Length; start += sizes[i], i++)
        {
            if (first < start || end > start + sizes[i]) continue;
            if (start % layout.Block != 0 || sizes[i] % layout.Block != 0 || node.Inputs[i]!.Constant != null) break;
            Track(node.Inputs[i]!, layout with { Offset = layout.Offset - start / layout.Block, Units = sizes[i] / layout.Block }, node);
            return;
        }
        Fail($"{LayerNames.Label(node)}: the channels span several of its inputs");
    }

    /// <summary>
    /// Flatten and Reshape, followed forwards when the channels stay in blocks: with outer = Π in[..a) and inner = Π in(a..],
    /// the output needs an axis a' with Π out[..a') = outer and S = Π out(a'..] dividing inner; channel c then spans
    /// out[a'] positions [c·inner/S, (c+1)·inner/S) — Flatten into a Gemm (S = 1: blocks of H·W), a reshape that keeps the
    /// channel axis (S = inner), or one that only moves size-1 axes. A shuffle ([N, C, …] → [G, C/G, …]) fails.
    /// </summary>
    private void VisitFlatten(Node node, int port, ChannelLayout layout)
    {
        if (port != 0)
        {
            Fail(port < 0 ? $"{LayerNames.Label(node)} produces channels from a reshape; only forward reshapes are followed" : $"{LayerNames.Label(node)} reads the channels as its shape");
            return;
        }
        var input = StaticShape(node.Input(0));
        var output = StaticShape(node.Output(0));
        if (input == null || output == null)
        {
            Fail($"{LayerNames.Label(node)}: static shapes are needed to follow the channels (set InputShapes for dynamic inputs)");
            return;
        }
        var a = layout.Axis;
        var outer = input.Take(a).Aggregate(1L, (x, y) => x * y);
        var inner = input.Skip(a + 1).Aggregate(1L, (x, y) => x * y);
        var prefix = 1L;
        for (var axis = 0; axis < output.Length; prefix *= output[axis], axis++)
        {
            var suffix = output.Skip(axis + 1).Aggregate(1L, (x, y) => x * y);
            if (prefix != outer || suffix == 0 || inner % suffix != 0 || output[axis] * suffix != input[a] * inner) continue;
            var outLayout = new ChannelLayout(axis, layout.Offset, layout.Block * (inner / suffix), layout.Units);
            if (node.Is(OpTypes.Reshape) && !ReshapeShapeFollows(node, layout, outLayout)) return;
            Track(node.Output(0), outLayout, node);
            return;
        }
        Fail($"{LayerNames.Label(node)} mixes the channels ([{string.Join(",", input)}] → [{string.Join(",", output)}], channels on axis {a})");
    }

    /// <summary>
    /// Whether the Reshape's shape stays right once the channels shrink: it must be constant; an explicit size on the new
    /// channel axis is recorded for fixing; a 0 (copy the input's size) may only copy the channel axis onto itself.
    /// </summary>
    private bool ReshapeShapeFollows(Node node, ChannelLayout inLayout, ChannelLayout outLayout)
    {
        var shape = node.Input(ReshapeInput.Shape)?.Constant;
        if (shape == null) return Fail($"{LayerNames.Label(node)}: its shape is computed at run time");
        var values = shape.ToInt64s();
        if (outLayout.Axis >= values.Length) return Fail($"{LayerNames.Label(node)}: shape [{string.Join(",", values)}] is shorter than the channel axis");
        var copiesChannels = node.GetInt(AttrNames.AllowZero, 0) == 0 && inLayout.Axis < values.Length && values[inLayout.Axis] == 0;
        if (copiesChannels && (outLayout.Axis != inLayout.Axis || outLayout.Block != inLayout.Block))
        {
            return Fail($"{LayerNames.Label(node)}: shape [{string.Join(",", values)}] copies the channel count to another axis");
        }
        if (values[outLayout.Axis] > 0) _trace.ShapeEdits.Add(new ShapeEdit(node, ReshapeInput.Shape, outLayout.Axis, outLayout));
        return true;
    }

    private void VisitSqueeze(Node node, int port, ChannelLayout layout)
    {
        if (port > 0)
        {
            Fail($"{LayerNames.Label(node)} reads the channels as its axes");
            return;
        }
        var inRank = Rank(node.Input(0));
        var outRank = Rank(node.Output(0));
        var axesValue = node.GetInts(AttrNames.Axes)?.ToArray() ?? node.Input(SqueezeInput.Axes)?.Constant?.ToInt64s();
        if (inRank == null || outRank == null || axesValue == null)
        {
            Fail($"{LayerNames.Label(node)}: its axes or ranks are unknown");
            return;
        }
        var squeeze = node.Is(OpTypes.Squeeze);
        var wide = squeeze ? inRank.Value : outRank.Value;
        var axes = axesValue.Select(x => x < 0 ? x + wide : x).ToHashSet();
        var narrowAxis = new List<int>();
        for (var i = 0; i < wide; i++)
        {
            if (!axes.Contains(i)) narrowAxis.Add(i);
        }
        var fromWide = squeeze == (port == 0);
        var mapped = fromWide ? narrowAxis.IndexOf(layout.Axis) : layout.Axis < narrowAxis.Count ? narrowAxis[layout.Axis] : -1;
        if (mapped < 0)
        {
            Fail($"{LayerNames.Label(node)} removes or inserts the channel axis");
            return;
        }
        PassThrough(node, port, layout.WithAxis(mapped), layout.WithAxis(mapped));
    }

    private void VisitTranspose(Node node, int port, ChannelLayout layout)
    {
        var rank = Rank(node.Input(0));
        if (rank == null)
        {
            Fail($"{LayerNames.Label(node)}: the rank of its input is unknown");
            return;
        }
        var perm = node.GetInts(AttrNames.Perm)?.Select(p => (int)p).ToArray() ?? [.. Enumerable.Range(0, rank.Value).Reverse()];
        var mapped = port == 0 ? Array.IndexOf(perm, layout.Axis) : perm[layout.Axis];
        PassThrough(node, port, layout.WithAxis(mapped), layout.WithAxis(mapped));
    }

    private void VisitResize(Node node, int port, ChannelLayout layout)
    {
        if (port > 0)
        {
            Fail($"{LayerNames.Label(node)} reads the channels as input {port}");
            return;
        }
        var modern = node.Is(OpTypes.Resize) && _opset >= 11;
        var scalesIndex = modern ? ResizeInput.Scales : ResizeInput.ScalesBefore11;
        var scalesValue = node.Input(scalesIndex);
        var scales = scalesValue?.Constant?.ToSingles() ?? node.GetFloats(PruneAttrs.Scales)?.ToArray();
        var sizesValue = modern ? node.Input(ResizeInput.Sizes) : null;
        if (sizesValue != null && (scales == null || scales.Length == 0))
        {
            if (sizesValue.Constant == null)
            {
                Fail($"{LayerNames.Label(node)}: its sizes are computed at run time");
                return;
            }
            _trace.ShapeEdits.Add(new ShapeEdit(node, ResizeInput.Sizes, layout.Axis, layout));
        }
        else if (scales == null || layout.Axis >= scales.Length)
        {
            Fail($"{LayerNames.Label(node)}: its scales are computed at run time");
            return;
        }
        else if (scales[layout.Axis] != 1f)
        {
            Fail($"{LayerNames.Label(node)} scales the channel axis by {scales[layout.Axis]}");
            return;
        }
        PassThrough(node, port, layout, layout);
    }

    private void VisitPad(Node node, int port, ChannelLayout layout)
    {
        if (port > 0)
        {
            Fail($"{LayerNames.Label(node)} reads the channels as input {port}");
            return;
        }
        var pads = _opset >= 11 ? node.Input(PadInput.Pads)?.Constant?.ToInt64s() : node.GetInts(AttrNames.Pads)?.ToArray();
        var rank = Rank(node.Input(0));
        if (pads == null || rank == null || pads.Length != 2 * rank || node.Input(PadInput.Axes) != null)
        {
            Fail($"{LayerNames.Label(node)}: its pads are not constant for every axis");
            return;
        }
        if (pads[layout.Axis] != 0 || pads[layout.Axis + rank.Value] != 0)
        {
            Fail($"{LayerNames.Label(node)} pads the channel axis");
            return;
        }
        PassThrough(node, port, layout, layout);
    }

    /// <summary>Reductions over other axes with keepdims=1 keep the channel axis.</summary>
    private void VisitReduce(Node node, int port, ChannelLayout layout)
    {
        if (port > 0)
        {
            Fail($"{LayerNames.Label(node)} reads the channels as its axes");
            return;
        }
        var axes = node.GetInts(AttrNames.Axes)?.ToArray() ?? node.Input(1)?.Constant?.ToInt64s();
        var rank = Rank(node.Input(0));
        if (axes == null || axes.Length == 0 || rank == null || node.GetInt(PruneAttrs.KeepDims, 1) == 0)
        {
            Fail($"{LayerNames.Label(node)} may reduce the channel axis (axes unknown or keepdims=0)");
            return;
        }
        if (axes.Any(x => (x < 0 ? x + rank.Value : x) == layout.Axis))
        {
            Fail($"{LayerNames.Label(node)} reduces the channel axis");
            return;
        }
        PassThrough(node, port, layout, layout);
    }
}
