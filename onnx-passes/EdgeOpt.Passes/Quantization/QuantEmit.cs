using System.Globalization;
using EdgeOpt.Onnx.Ir;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Quantization;

/// <summary>A weight replaced by int8 codes: the codes, scale and zero point initializers, and the parameters behind them.</summary>
internal sealed record WeightValues(Value Codes, Value Scale, Value ZeroPoint, QuantizedWeights Weights)
{
    /// <summary>Bytes the float weight took and the int8 codes plus scales take.</summary>
    public (long Before, long After) Bytes => (Weights.Codes.LongLength * 4, Weights.Codes.LongLength + Weights.Scales.Length * 4L);
}

/// <summary>
/// Emits what the quantization passes add to a graph: constants, QuantizeLinear/DequantizeLinear in the domain the model's
/// opset allows (ONNX from opset 13; before that per-channel parameters need ONNX Runtime's <c>com.microsoft</c> versions,
/// and before opset 10 every Q/DQ does), int8 weights and int32 biases. Names are <c>{owner}/{purpose}</c>, made unique.
/// </summary>
internal sealed class QuantEmit(Model model)
{
    public Model Model { get; } = model;
    public Graph Graph => Model.Graph;

    /// <summary>The model's ONNX opset (1 when it imports none).</summary>
    public long Opset => Model.OpsetVersion("") ?? 1;

    /// <summary>The domain for a QuantizeLinear/DequantizeLinear with (or without) an axis in this model.</summary>
    public string QdqDomain(bool perChannel) =>
        Opset >= QuantOps.PerChannelOpset || (!perChannel && Opset >= QuantOps.QuantizeOpset) ? "" : QuantOps.MicrosoftDomain;

    /// <summary>Imports <c>com.microsoft</c> (version 1) when a node of that domain was added and the model lacks it.</summary>
    public void ImportMicrosoftDomainIfUsed()
    {
        if (Model.OpsetVersion(QuantOps.MicrosoftDomain) != null) return;
        if (Graph.Nodes.Any(n => n.Domain == QuantOps.MicrosoftDomain)) Model.Opsets.Add(new OpsetId(QuantOps.MicrosoftDomain, 1));
    }

    public static string BaseName(Node node) => node.Name.Length > 0 ? node.Name : node.OpType;

    public Value Constant(string name, Tensor tensor) => Graph.AddConstant(name, tensor);

    public Value Scale(string name, float scale) => Constant(name, Tensor.Scalar("", scale));

    public Value ZeroPoint(string name, QuantType type, int zeroPoint) => Constant(name, QuantMath.ZeroPointTensor("", type, zeroPoint));

    /// <summary>A node with one output named <paramref name="output"/>, inserted before <paramref name="before"/> (or appended).</summary>
    public Node Add(string opType, string name, IEnumerable<Value?> inputs, string output, Node? before, string domain = "", params Attribute[] attributes) =>
        Graph.AddNode(opType, inputs, [output], name, domain, attributes, before);

    /// <summary>QuantizeLinear(<paramref name="x"/>) named <c>{x}/quantize</c>; returns its output.</summary>
    public Value Quantize(Value x, Value scale, Value zeroPoint, Node? before) =>
        Add(QuantOps.QuantizeLinear, x.Name + "/quantize", [x, scale, zeroPoint], x.Name + "/quantized", before, QdqDomain(false)).Output();

    /// <summary>DequantizeLinear(<paramref name="q"/>) with per-channel <paramref name="axis"/> when given.</summary>
    public Value Dequantize(string baseName, Value q, Value scale, Value zeroPoint, Node? before, int? axis = null) =>
        Add(QuantOps.DequantizeLinear, baseName + "/dequantize", [q, scale, zeroPoint], baseName + "/dequantized", before, QdqDomain(axis != null),
            axis is { } a ? [Attribute.Int(QuantAttrs.Axis, a)] : []).Output();

    /// <summary>
    /// Symmetric int8 codes of <paramref name="weight"/> (a float constant), per channel along <paramref name="axis"/> or per tensor,
    /// as new initializers <c>{owner}/weight_quantized</c>, <c>/weight_scale</c>, <c>/weight_zero_point</c>. <paramref name="transform"/>
    /// may rewrite the float values and dims first (e.g. transpose, fold a Gemm's alpha).
    /// </summary>
    public WeightValues Weights(Node owner, Tensor weight, int? axis, bool reduceRange, string purpose = "weight",
        Func<float[], long[], (float[] Values, long[] Dims)>? transform = null)
    {
        var values = weight.ToSingles();
        var dims = weight.DimsArray();
        if (transform != null) (values, dims) = transform(values, dims);
        var q = QuantMath.QuantizeWeights(values, dims, axis, reduceRange);
        var name = $"{BaseName(owner)}/{purpose}";
        var codes = Constant(name + "_quantized", Tensor.Create("", dims, q.Codes));
        Value scale, zeroPoint;
        if (q.PerChannel)
        {
            scale = Constant(name + "_scale", Tensor.Create("", [q.Scales.Length], q.Scales));
            zeroPoint = Constant(name + "_zero_point", Tensor.Create("", [q.Scales.Length], new sbyte[q.Scales.Length]));
        }
        else
        {
            scale = Scale(name + "_scale", q.Scales[0]);
            zeroPoint = Constant(name + "_zero_point", Tensor.Scalar("", (sbyte)0));
        }
        return new WeightValues(codes, scale, zeroPoint, q);
    }

    /// <summary>int32 bias codes with scale input scale × weight scale (zero point 0), as initializers <c>{owner}/bias_quantized</c>, <c>/bias_scale</c>, <c>/bias_zero_point</c>.</summary>
    public (Value Codes, Value Scale, Value ZeroPoint, int Clamped) Bias(Node owner, Tensor bias, float inputScale, QuantizedWeights w)
    {
        var q = QuantMath.QuantizeBias(bias.ToSingles(), inputScale, w.Scales, out var scales, out var clamped);
        var name = $"{BaseName(owner)}/bias";
        var n = q.Length;
        var codes = Constant(name + "_quantized", Tensor.Create("", [n], q));
        if (w.PerChannel)
        {
            return (codes, Constant(name + "_scale", Tensor.Create("", [n], scales)), Constant(name + "_zero_point", Tensor.Create("", [n], new int[n])), clamped);
        }
        return (codes, Scale(name + "_scale", scales[0]), Constant(name + "_zero_point", Tensor.Scalar("", 0)), clamped);
    }

    /// <summary>Removes initializers nothing reads any more.</summary>
    public void RemoveIfUnused(Value? value)
    {
        if (value is { IsUsed: false, IsGraphInput: false, IsInitializer: true }) value.Graph.RemoveInitializer(value);
    }

    /// <summary>"256.0 KiB → 64.1 KiB" for a weight's float and int8 storage.</summary>
    public static string Size((long Before, long After) bytes) => $"{Kib(bytes.Before)} → {Kib(bytes.After)}";

    private static string Kib(long bytes) => bytes < 1024
        ? bytes.ToString(CultureInfo.InvariantCulture) + " B"
        : (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB";

    /// <summary>Why <paramref name="value"/> is not a float32 constant usable as a weight (null when it is).</summary>
    public static string? WeightProblem(Value? value, string role, int minRank, int maxRank = int.MaxValue)
    {
        if (value == null) return $"has no {role}";
        var t = value.Constant;
        if (t == null) return value.IsInitializer && value.IsGraphInput
            ? $"{role} '{value.Name}' is also a graph input (overridable); run remove-initializer-inputs first"
            : $"{role} '{value.Name}' is not a constant";
        if (t.DataType != TensorDataType.Float) return $"{role} '{value.Name}' is {TensorDataTypes.OnnxName(t.DataType)}; only float32 weights are quantized";
        if (t.Rank < minRank || t.Rank > maxRank) return $"{role} '{value.Name}' has rank {t.Rank}";
        if (t.ElementCount == 0) return $"{role} '{value.Name}' is empty";
        return null;
    }
}
