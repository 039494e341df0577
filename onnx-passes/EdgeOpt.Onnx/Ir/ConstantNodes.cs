namespace EdgeOpt.Onnx.Ir;

/// <summary>Reads the tensor a <c>Constant</c> node produces, whichever attribute holds it.</summary>
public static class ConstantNodes
{
    /// <summary>The node's value as a tensor (named after its output), or null when it holds a sparse value or none.</summary>
    public static Tensor? ValueOf(Node constant)
    {
        var name = constant.Outputs.Count > 0 && constant.Outputs[0] != null ? constant.Outputs[0]!.Name : constant.Name;
        foreach (var a in constant.Attributes)
        {
            switch (a.Name)
            {
                case "value": return a.AsTensor().WithName(name);
                case "value_float": return Tensor.Scalar(name, a.AsFloat());
                case "value_int": return Tensor.Scalar(name, a.AsInt());
                case "value_floats": return Tensor.Create(name, [a.AsFloats().Count], a.AsFloats().ToArray());
                case "value_ints": return Tensor.Create(name, [a.AsInts().Count], a.AsInts().ToArray());
                case "value_string": return Tensor.FromStrings(name, [], [a.AsString()]);
                case "value_strings": return Tensor.FromStrings(name, [a.AsStrings().Count], a.AsStrings());
            }
        }
        return null;
    }
}
