using EdgeOpt.Onnx.Ir;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Quantization;

/// <summary>
/// Writes a <see cref="StaticQuantPlan"/> in QOperator form: each quantized op is replaced by its integer operator
/// (QLinearConv, QLinearMatMul, com.microsoft QGemm/QLinearAdd/QLinearMul/QLinearConcat/QLinearAveragePool/
/// QLinearGlobalAveragePool/QLinearSigmoid/QLinearLeakyRelu), passthrough ops are re-created on the int8 tensors, a
/// QuantizeLinear enters int8 where a float tensor feeds a quantized op, and a DequantizeLinear leaves it where an int8
/// tensor feeds a float op or is a graph output (which keeps its name and float type).
/// </summary>
internal sealed class QOperatorWriter(StaticQuantPlan plan, QuantEmit emit, QuantizeStaticOptions options)
{
    private readonly Dictionary<Value, Value> _int8 = [];
    private readonly Dictionary<Value, (Value Scale, Value ZeroPoint)> _params = [];

    public void Write()
    {
        var replaced = new List<NodeDecision>();
        foreach (var d in plan.Decisions.ToList())
        {
            switch (d.Role)
            {
                case NodeRole.Compute:
                    EmitCompute(d);
                    replaced.Add(d);
                    break;
                case NodeRole.Passthrough:
                    EmitPassthrough(d);
                    replaced.Add(d);
                    break;
                case NodeRole.WeightOnly:
                    WeightOnly(d);
                    break;
                case NodeRole.Rescale:
                    _int8[d.Output!] = Int8(d.Node.Input(d.ActivationInputs[0])!);
                    NewParams(d.Output!);
                    replaced.Add(d);
                    break;
            }
        }
        for (var k = replaced.Count - 1; k >= 0; k--) Retire(replaced[k]);
    }

    /// <summary>Removes the float original of a replaced op; a DequantizeLinear takes its output's place where anything still reads it.</summary>
    private void Retire(NodeDecision d)
    {
        var t = d.Output!;
        var outputNode = StaticOperands.OutputNode(d);
        var constants = d.Node.Inputs.Concat(d.Folded?.Inputs ?? []).OfType<Value>().Where(v => v.IsInitializer).Distinct().ToList();
        if (t.IsUsed)
        {
            var (scale, zeroPoint) = _params[t];
            emit.Graph.ReplaceNode(outputNode, [emit.Dequantize(t.Name, _int8[t], scale, zeroPoint, before: null)]);
        }
        else
        {
            emit.Graph.RemoveNode(outputNode);
        }
        if (d.Folded != null) emit.Graph.RemoveNode(d.Node);
        foreach (var c in constants) emit.RemoveIfUnused(c);
    }

    private Value Int8(Value t)
    {
        if (_int8.TryGetValue(t, out var q)) return q;
        var (scale, zeroPoint) = NewParams(t);
        q = emit.Quantize(t, scale, zeroPoint, before: null);
        _int8[t] = q;
        return q;
    }

    private (Value Scale, Value ZeroPoint) NewParams(Value t)
    {
        var p = plan.Params[t];
        var made = (emit.Scale(t.Name + "/scale", p.Scale), emit.ZeroPoint(t.Name + "/zero_point", options.ActivationType, p.ZeroPoint));
        _params[t] = made;
        return made;
    }

    private void EmitCompute(NodeDecision d)
    {
        var node = d.Node;
        var name = QuantEmit.BaseName(node) + "/quantized";
        var output = d.Output!;
        var (ys, yz) = NewParams(output);
        var outName = output.Name + "/quantized";
        Value? Operand(int i) => node.Input(i) is { } v && d.ActivationInputs.Contains(i) ? Int8(v) : null;
        List<Value?> Triple(int i) => [Operand(i), _params[node.Input(i)!].Scale, _params[node.Input(i)!].ZeroPoint];
        Node q;
        switch (node.OpType)
        {
            case OpTypes.Conv:
            {
                var w = StaticOperands.Weights(d, emit, options.ReduceRange);
                var x = Triple(ConvInput.X);
                Value? bias = d.Bias is { } bi ? Bias(d, plan.Params[node.Input(ConvInput.X)!].Scale, w.Weights) : null;
                q = emit.Add(QuantOps.QLinearConv, name, [.. x, w.Codes, w.Scale, w.ZeroPoint, ys, yz, bias], outName, null, "", [.. node.Attributes]);
                break;
            }
            case OpTypes.MatMul:
            {
                var a = Triple(MatMulInput.A);
                List<Value?> b;
                if (d.Weight != null)
                {
                    var w = StaticOperands.Weights(d, emit, options.ReduceRange);
                    b = [w.Codes, w.Scale, w.ZeroPoint];
                }
                else
                {
                    b = Triple(MatMulInput.B);
                }
                q = emit.Add(QuantOps.QLinearMatMul, name, [.. a, .. b, ys, yz], outName, null);
                break;
            }
            case OpTypes.Gemm:
            {
                var w = StaticOperands.Weights(d, emit, options.ReduceRange);
                var a = Triple(GemmInput.A);
                Value? bias = d.Bias != null ? Bias(d, plan.Params[node.Input(GemmInput.A)!].Scale, w.Weights) : null;
                q = emit.Add(QuantOps.QGemm, name, [.. a, w.Codes, w.Scale, w.ZeroPoint, bias, ys, yz], outName, null, QuantOps.MicrosoftDomain,
                    Attribute.Int("transA", node.GetInt("transA", 0)), Attribute.Int(AttrNames.TransB, node.GetInt(AttrNames.TransB, 0)),
                    Attribute.Float(AttrNames.Alpha, 1f));
                break;
            }
            case OpTypes.Add or OpTypes.Mul:
            {
                var inputs = new List<Value?>();
                for (var i = 0; i < 2; i++) inputs.AddRange(OperandTriple(d, i, Triple));
                q = emit.Add(node.OpType == OpTypes.Add ? QuantOps.QLinearAdd : QuantOps.QLinearMul, name, [.. inputs, ys, yz], outName, null, QuantOps.MicrosoftDomain);
                break;
            }
            case OpTypes.Concat:
            {
                var inputs = new List<Value?> { ys, yz };
                for (var i = 0; i < node.Inputs.Count; i++) inputs.AddRange(OperandTriple(d, i, Triple));
                q = emit.Add(QuantOps.QLinearConcat, name, inputs, outName, null, QuantOps.MicrosoftDomain, Attribute.Int(AttrNames.Axis, node.GetInt(AttrNames.Axis, 0)));
                break;
            }
            default:
            {
                var (op, attributes) = node.OpType switch
                {
                    OpTypes.AveragePool => (QuantOps.QLinearAveragePool, node.Attributes.ToArray()),
                    OpTypes.GlobalAveragePool => (QuantOps.QLinearGlobalAveragePool, [Attribute.Int(QuantAttrs.ChannelsLast, 0)]),
                    OpTypes.Sigmoid => (QuantOps.QLinearSigmoid, []),
                    OpTypes.LeakyRelu => (QuantOps.QLinearLeakyRelu, [Attribute.Float(AttrNames.Alpha, node.GetFloat(AttrNames.Alpha, 0.01f))]),
                    _ => throw new InvalidOperationException($"{node.OpType} has no QOperator form"),
                };
                q = emit.Add(op, name, [.. Triple(0), ys, yz], outName, null, QuantOps.MicrosoftDomain, attributes);
                break;
            }
        }
        _int8[output] = q.Output();
        d.Message += $" → {q.OpType}";
    }

    private Value Bias(NodeDecision d, float inputScale, QuantizedWeights w)
    {
        var b = StaticOperands.Bias(d, emit, inputScale, w, StaticOperands.Channels(d));
        if (b.Clamped > 0) d.Message += $"; {b.Clamped} bias values saturated int32";
        return b.Codes;
    }

    private IEnumerable<Value?> OperandTriple(NodeDecision d, int index, Func<int, List<Value?>> activation)
    {
        if (!d.ConstantOperands.Contains(index)) return activation(index);
        var c = StaticOperands.Constant(d, index, emit, options.ActivationType);
        return [c.Codes, c.Scale, c.ZeroPoint];
    }

    private void EmitPassthrough(NodeDecision d)
    {
        var node = d.Node;
        var input = node.Input(0)!;
        var inputs = node.Inputs.ToList();
        inputs[0] = Int8(input);
        var copy = emit.Add(node.OpType, QuantEmit.BaseName(node) + "/quantized", inputs, d.Output!.Name + "/quantized", null, node.Domain, [.. node.Attributes]);
        _int8[d.Output!] = copy.Output();
        _params[d.Output!] = _params[input];
    }

    private void WeightOnly(NodeDecision d)
    {
        var node = d.Node;
        var old = node.Input(d.Weight!.Value.Index)!;
        var w = StaticOperands.Weights(d, emit, options.ReduceRange);
        node.SetInput(d.Weight.Value.Index, emit.Dequantize(QuantEmit.BaseName(node) + "/weight", w.Codes, w.Scale, w.ZeroPoint, node, d.Weight.Value.Axis));
        emit.RemoveIfUnused(old);
        d.Message += $" ({QuantizeDynamicPass.Granularity(w.Weights)}: {QuantEmit.Size(w.Bytes)})";
    }
}
