using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Quantization;

/// <summary>
/// Writes a <see cref="StaticQuantPlan"/> in QDQ form: every quantized tensor gets one QuantizeLinear → DequantizeLinear pair
/// after its producer (float ops keep computing in float), weights become int8 initializers behind DequantizeLinear and biases
/// int32 ones. ONNX Runtime fuses each <c>DQ → op → Q</c> group into its int8 kernel (QLinearConv, QGemm, QLinearMatMul, …).
/// A tensor produced by a quantized op is read through its DequantizeLinear by every consumer (anything else would break the
/// fusion); a float tensor quantized for a quantized consumer is read through it by the quantized consumers only.
/// </summary>
internal sealed class QdqWriter(StaticQuantPlan plan, QuantEmit emit, QuantizeStaticOptions options)
{
    private readonly Dictionary<Value, (Value Scale, Value ZeroPoint)> _params = [];
    private readonly HashSet<Value> _done = [];

    /// <summary>The QuantizeLinear output holding each quantized tensor's codes (a rescale's output shares its input's).</summary>
    private readonly Dictionary<Value, Value> _codes = [];

    /// <summary>The activation DequantizeLinear outputs written, in order.</summary>
    private readonly List<Value> _dequantizes = [];

    public void Write()
    {
        // The planned activation inputs, before any rewiring points them at DequantizeLinear outputs.
        var inputs = plan.Decisions.ToDictionary(d => d, d => d.ActivationInputs.Select(i => d.Node.Input(i)!).ToList());
        foreach (var d in plan.Decisions.ToList())
        {
            switch (d.Role)
            {
                case NodeRole.Compute:
                    WriteConstants(d, inputs[d]);
                    foreach (var v in inputs[d]) QuantizeTensor(v);
                    QuantizeTensor(d.Output!);
                    break;
                case NodeRole.Passthrough:
                    QuantizeTensor(d.Output!, sharesWith: inputs[d][0]);
                    break;
                case NodeRole.WeightOnly:
                    WriteWeight(d);
                    break;
                case NodeRole.Rescale:
                    WriteRescale(d, inputs[d][0]);
                    break;
            }
        }
        RemoveUnreadDequantizes();
    }

    /// <summary>
    /// A tensor read only by rescales leaves its own DequantizeLinear unread; ONNX Runtime would still run it (dead nodes are
    /// not pruned), so it goes.
    /// </summary>
    private void RemoveUnreadDequantizes()
    {
        foreach (var dq in _dequantizes)
        {
            if (dq.IsUsed || dq.IsGraphOutput || dq.Producer is not { } node) continue;
            emit.Graph.RemoveNode(node);
        }
    }

    private void QuantizeTensor(Value t, Value? sharesWith = null)
    {
        if (!_done.Add(t)) return;
        var producer = plan.DecisionOf(t.Producer);
        var (scale, zeroPoint) = ParamValues(t, plan.Params[t], sharesWith);
        var folded = producer is { Role: NodeRole.Folded } ? producer.Node : null;
        var source = folded?.Input(0) ?? t;
        var q = emit.Quantize(source, scale, zeroPoint, before: null);
        var dq = emit.Dequantize(t.Name, q, scale, zeroPoint, before: null);
        _dequantizes.Add(dq);
        var qNode = q.Producer!;
        _codes[t] = q;
        if (folded != null)
        {
            var bounds = folded.Inputs.Skip(1).ToList();
            emit.Graph.ReplaceNode(folded, [dq]);
            foreach (var b in bounds) emit.RemoveIfUnused(b);
            return;
        }
        if (plan.Int8Produced.Contains(t))
        {
            foreach (var use in t.Uses.Where(u => u.Node != qNode).ToList()) use.Node.SetInput(use.InputIndex, dq);
            if (t.IsGraphOutput) HandOverGraphOutput(t, qNode, dq);
            return;
        }
        foreach (var use in t.Uses.Where(u => ReadsQuantized(u)).ToList()) use.Node.SetInput(use.InputIndex, dq);
    }

    /// <summary>The rescale's node is replaced by a DequantizeLinear of its input's codes with the output's own scale and zero point.</summary>
    private void WriteRescale(NodeDecision d, Value input)
    {
        QuantizeTensor(input);
        var output = d.Output!;
        var codes = _codes[input];
        var (scale, zeroPoint) = ParamValues(output, plan.Params[output], sharesWith: null);
        var dq = emit.Dequantize(output.Name, codes, scale, zeroPoint, before: null);
        _dequantizes.Add(dq);
        var constants = d.Node.Inputs.OfType<Value>().Where(v => v.IsInitializer).Distinct().ToList();
        emit.Graph.ReplaceNode(d.Node, [dq]);
        foreach (var c in constants) emit.RemoveIfUnused(c);
        _codes[output] = codes;
        _done.Add(output);
    }

    /// <summary>Scale and zero-point initializers: a passthrough output shares its input's, others get <c>{t}/scale</c>, <c>{t}/zero_point</c>.</summary>
    private (Value Scale, Value ZeroPoint) ParamValues(Value t, QuantParams p, Value? sharesWith)
    {
        if (sharesWith != null && _params.TryGetValue(sharesWith, out var shared))
        {
            _params[t] = shared;
            return shared;
        }
        var made = (emit.Scale(t.Name + "/scale", p.Scale), emit.ZeroPoint(t.Name + "/zero_point", options.ActivationType, p.ZeroPoint));
        _params[t] = made;
        return made;
    }

    private bool ReadsQuantized(Use use) =>
        plan.DecisionOf(use.Node) is { Role: NodeRole.Compute } c && c.ActivationInputs.Contains(use.InputIndex);

    /// <summary>
    /// A quantized op's output is also a graph output: the op is recreated to feed the Q, and the DequantizeLinear output takes
    /// over the graph output's name (graph outputs keep their names and float type).
    /// </summary>
    private void HandOverGraphOutput(Value t, Node qNode, Value dq)
    {
        var producer = t.Producer!;
        var copy = emit.Graph.AddNode(producer.OpType, producer.Inputs, [t.Name + "/float"], producer.Name, producer.Domain, producer.Attributes, before: producer);
        qNode.SetInput(0, copy.Output());
        emit.Graph.ReplaceNode(producer, [dq]);
    }

    private void WriteConstants(NodeDecision d, List<Value> activations)
    {
        var node = d.Node;
        if (d.Weight != null)
        {
            var x = activations[0];
            var oldWeight = node.Input(d.Weight.Value.Index)!;
            var channels = StaticOperands.Channels(d);
            var w = StaticOperands.Weights(d, emit, options.ReduceRange);
            var name = QuantEmit.BaseName(node);
            node.SetInput(d.Weight.Value.Index, emit.Dequantize(name + "/weight", w.Codes, w.Scale, w.ZeroPoint, node, d.Weight.Value.Axis));
            emit.RemoveIfUnused(oldWeight);
            if (d.Bias is { } bi)
            {
                var oldBias = node.Input(bi)!;
                var b = StaticOperands.Bias(d, emit, plan.Params[x].Scale, w.Weights, channels);
                node.SetInput(bi, emit.Dequantize(name + "/bias", b.Codes, b.Scale, b.ZeroPoint, node, w.Weights.PerChannel ? 0 : null));
                if (b.Clamped > 0) d.Message += $"; {b.Clamped} bias values saturated int32";
                emit.RemoveIfUnused(oldBias);
            }
            else if (node.Is(OpTypes.Gemm) && node.Input(GemmInput.C) is { } unusedC)
            {
                node.SetInput(GemmInput.C, null);
                node.TrimInputs();
                emit.RemoveIfUnused(unusedC);
            }
        }
        foreach (var i in d.ConstantOperands)
        {
            var old = node.Input(i)!;
            var c = StaticOperands.Constant(d, i, emit, options.ActivationType);
            node.SetInput(i, emit.Dequantize($"{QuantEmit.BaseName(node)}/operand{i}", c.Codes, c.Scale, c.ZeroPoint, node));
            emit.RemoveIfUnused(old);
        }
    }

    private void WriteWeight(NodeDecision d)
    {
        var node = d.Node;
        var old = node.Input(d.Weight!.Value.Index)!;
        var w = StaticOperands.Weights(d, emit, options.ReduceRange);
        node.SetInput(d.Weight.Value.Index, emit.Dequantize(QuantEmit.BaseName(node) + "/weight", w.Codes, w.Scale, w.ZeroPoint, node, d.Weight.Value.Axis));
        emit.RemoveIfUnused(old);
        d.Message += $" ({QuantizeDynamicPass.Granularity(w.Weights)}: {QuantEmit.Size(w.Bytes)})";
    }
}
