using System.Globalization;

namespace EdgeOpt.Runtime;

/// <summary>
/// A model input or output as the session sees it: name, kind, element type (tensors), and shape with -1 for each
/// dimension not fixed, alongside the dimension's symbolic name when it has one (null otherwise).
/// </summary>
public sealed record ValueInfo(
    string Name,
    OnnxValueKind Kind,
    OnnxElementType ElementType,
    IReadOnlyList<long> Shape,
    IReadOnlyList<string?> SymbolicDims)
{
    /// <summary>Whether the value is a dense tensor (the only kind EdgeOpt feeds and reads).</summary>
    public bool IsTensor => Kind == OnnxValueKind.Tensor;

    /// <summary>Whether any dimension is not fixed.</summary>
    public bool HasDynamicDims => Shape.Any(d => d < 0);

    /// <summary>E.g. <c>x: Float[batch,3,-1,-1]</c>.</summary>
    public override string ToString()
    {
        if (!IsTensor) return $"{Name}: {Kind}";
        var dims = Shape.Select((d, i) => d >= 0 ? d.ToString(CultureInfo.InvariantCulture) : SymbolicDims[i] ?? "-1");
        return $"{Name}: {ElementType}[{string.Join(",", dims)}]";
    }
}

/// <summary>What the model file says about itself (<c>ModelProto</c> fields ONNX Runtime exposes).</summary>
public sealed record ModelMetadata(string ProducerName, string GraphName, string Domain, string Description, long Version);
