using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Pruning;

/// <summary>Removes a traced group's channels: slices every recorded parameter, fixes shape constants and group attributes, and updates value types.</summary>
internal static class ChannelSurgery
{
    /// <summary>Applies <paramref name="trace"/> with the group channels <paramref name="removed"/> (ascending) gone.</summary>
    public static void Apply(ChannelTrace trace, IReadOnlyList<long> removed, GraphEditor edit)
    {
        foreach (var parameter in trace.Slices.GroupBy(s => (s.Node, s.Input)))
        {
            var (node, input) = parameter.Key;
            var tensor = node.Input(input)!.Constant!;
            foreach (var slice in parameter) tensor = WeightTensors.RemoveIndices(tensor, slice.ParamAxis, slice.Layout.Positions(removed));
            WeightTensors.Replace(edit, node, input, Purpose(node, input), tensor);
        }
        foreach (var shapeEdit in trace.ShapeEdits)
        {
            var old = shapeEdit.Node.Input(shapeEdit.Input)!.Constant!;
            var values = old.ToInt64s();
            values[shapeEdit.Element] -= shapeEdit.Layout.Positions(removed).Count;
            WeightTensors.Replace(edit, shapeEdit.Node, shapeEdit.Input, Purpose(shapeEdit.Node, shapeEdit.Input), Tensor.Create(old.Name, old.DimsArray(), values));
        }
        foreach (var groupEdit in trace.GroupEdits)
        {
            var group = groupEdit.Node.GetInt(AttrNames.Group, 1);
            groupEdit.Node.SetAttribute(Attribute.Int(AttrNames.Group, group - groupEdit.InputLayout.Positions(removed).Count));
        }
        foreach (var (value, layout) in trace.Values) Shrink(value, layout, layout.Positions(removed).Count);
    }

    /// <summary>Lowers the declared size of the channel axis of <paramref name="value"/>'s type by <paramref name="positions"/> (when declared as a number).</summary>
    private static void Shrink(Value value, ChannelLayout layout, long positions)
    {
        if (value.TensorType is not { Shape: { } shape } type || layout.Axis >= shape.Count || shape[layout.Axis].Value is not { } size) return;
        var dims = shape.ToArray();
        dims[layout.Axis] = dims[layout.Axis] with { Value = size - positions };
        value.Type = new TensorType(type.ElementType, dims, type.Denotation);
    }

    /// <summary>The purpose part of a new parameter's name, <c>{node}/pruned_{role}</c>.</summary>
    private static string Purpose(Node node, int input)
    {
        var role = node.OpType switch
        {
            OpTypes.Conv or OpTypes.ConvTranspose or OpTypes.Gemm or OpTypes.MatMul => input == ConvInput.W ? "weight" : input == ConvInput.B ? "bias" : null,
            OpTypes.BatchNormalization => input switch
            {
                BatchNormInput.Scale => "scale",
                BatchNormInput.Bias => "bias",
                BatchNormInput.Mean => "mean",
                BatchNormInput.Var => "var",
                _ => null,
            },
            OpTypes.InstanceNormalization => input == InstanceNormInput.Scale ? "scale" : "bias",
            OpTypes.Reshape => "shape",
            OpTypes.Resize => "sizes",
            _ => null,
        };
        return $"pruned_{role ?? $"input{input}"}";
    }
}
