using EdgeOpt.Onnx.Ir;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Quantization;

/// <summary>Small models for the quantization tests, built in code with seeded weights.</summary>
internal static class QuantModels
{
    /// <summary>
    /// A CNN touching every statically quantized op: Conv→Relu, MaxPool, Conv→Clip(0,6), Add (residual), Conv→Sigmoid, Mul,
    /// Concat, AveragePool, GlobalAveragePool, Flatten, Gemm (transB, bias) whose output "logits" is a graph output also read by
    /// Softmax ("prob"). Input x: [1, 3, 16, 16].
    /// </summary>
    public static Model Cnn(long opset = 13)
    {
        var b = new GraphBuilder("cnn");
        var x = b.Input("x", 1, 3, 16, 16);
        var c1 = b.Op(OpTypes.Conv, [x, b.Weight("w1", 1, -0.5, 0.5, 8, 3, 3, 3), b.Weight("b1", 2, -0.2, 0.2, 8)], "c1", Pads(1));
        var r1 = b.Op(OpTypes.Relu, [c1], "r1");
        var p1 = b.Op(OpTypes.MaxPool, [r1], "p1", Attribute.Ints(AttrNames.KernelShape, 2, 2), Attribute.Ints(AttrNames.Strides, 2, 2));
        var c2 = b.Op(OpTypes.Conv, [p1, b.Weight("w2", 3, -0.3, 0.3, 8, 8, 3, 3), b.Weight("b2", 4, -0.2, 0.2, 8)], "c2", Pads(1));
        var r2 = opset >= 11
            ? b.Op(OpTypes.Clip, [c2, b.Constant("clip_min", [], 0f), b.Constant("clip_max", [], 6f)], "r2")
            : b.Op(OpTypes.Clip, [c2], "r2", Attribute.Float(AttrNames.Min, 0f), Attribute.Float(AttrNames.Max, 6f));
        var a = b.Op(OpTypes.Add, [r2, p1], "a");
        var c3 = b.Op(OpTypes.Conv, [a, b.Weight("w3", 5, -0.5, 0.5, 8, 8, 1, 1)], "c3");
        var s = b.Op(OpTypes.Sigmoid, [c3], "s");
        var m = b.Op(OpTypes.Mul, [a, s], "m");
        var cat = b.Op(OpTypes.Concat, [m, a], "cat", Attribute.Int(AttrNames.Axis, 1));
        var ap = b.Op(OpTypes.AveragePool, [cat], "ap", Attribute.Ints(AttrNames.KernelShape, 2, 2), Attribute.Ints(AttrNames.Strides, 2, 2));
        var g = b.Op(OpTypes.GlobalAveragePool, [ap], "g");
        var f = b.Op(OpTypes.Flatten, [g], "f");
        var logits = b.Op(OpTypes.Gemm, [f, b.Weight("wg", 6, -1.0, 1.0, 10, 16), b.Weight("bg", 7, -0.5, 0.5, 10)], "logits", Attribute.Int(AttrNames.TransB, 1));
        var prob = b.Op(OpTypes.Softmax, [logits], "prob", Attribute.Int(AttrNames.Axis, 1));
        return b.Outputs(logits, prob).Build(opset);
    }

    /// <summary>
    /// An MLP: h = Relu(MatMul(x, w1) + b1); y = Gemm(h, w2, c, alpha 0.5, beta 2); z = MatMul(x, w3) (shares x with the first
    /// MatMul). Input x: [2, 16]; outputs y [2, 8] and z [2, 4].
    /// </summary>
    public static Model Mlp(long opset = 13)
    {
        var b = new GraphBuilder("mlp");
        var x = b.Input("x", 2, 16);
        var mm = b.Op(OpTypes.MatMul, [x, b.Weight("w1", 11, -0.5, 0.5, 16, 32)], "mm");
        var h = b.Op(OpTypes.Relu, [b.Op(OpTypes.Add, [mm, b.Weight("b1", 12, 8 * 4)], "sum")], "h");
        var y = b.Op(OpTypes.Gemm, [h, b.Weight("w2", 13, -0.5, 0.5, 32, 8), b.Weight("c", 14, 8)], "y",
            Attribute.Float(AttrNames.Alpha, 0.5f), Attribute.Float(AttrNames.Beta, 2f));
        var z = b.Op(OpTypes.MatMul, [x, b.Weight("w3", 15, -0.5, 0.5, 16, 4)], "z");
        return b.Outputs(y, z).Build(opset);
    }

    /// <summary>Conv (pads, stride, bias) → Relu → depthwise Conv → graph output; input x [1, 4, 12, 12].</summary>
    public static Model Convs(long opset = 13)
    {
        var b = new GraphBuilder("convs");
        var x = b.Input("x", 1, 4, 12, 12);
        var c1 = b.Op(OpTypes.Conv, [x, b.Weight("w1", 21, -0.5, 0.5, 8, 4, 3, 3), b.Weight("b1", 22, 8)], "c1", Pads(1), Attribute.Ints(AttrNames.Strides, 2, 2));
        var r1 = b.Op(OpTypes.Relu, [c1], "r1");
        var c2 = b.Op(OpTypes.Conv, [r1, b.Weight("w2", 23, -0.5, 0.5, 8, 1, 3, 3), b.Weight("b2", 24, 8)], "y", Pads(1), Attribute.Int(AttrNames.Group, 8));
        return b.Outputs(c2).Build(opset);
    }

    /// <summary>Conv → Relu → ConvTranspose (stride 2) → Reshape → Transpose → graph output; input x [1, 4, 6, 6].</summary>
    public static Model Decoder(long opset = 13)
    {
        var b = new GraphBuilder("decoder");
        var x = b.Input("x", 1, 4, 6, 6);
        var c = b.Op(OpTypes.Conv, [x, b.Weight("w1", 31, -0.5, 0.5, 6, 4, 3, 3)], "c", Pads(1));
        var r = b.Op(OpTypes.Relu, [c], "r");
        var up = b.Op(OpTypes.ConvTranspose, [r, b.Weight("wt", 32, -0.5, 0.5, 6, 3, 2, 2), b.Weight("bt", 33, 3)], "up", Attribute.Ints(AttrNames.Strides, 2, 2));
        var rs = b.Op(OpTypes.Reshape, [up, b.Int64s("shape", 1, 3, 144)], "rs");
        var t = b.Op(OpTypes.Transpose, [rs], "y", Attribute.Ints(AttrNames.Perm, 0, 2, 1));
        return b.Outputs(t).Build(opset);
    }

    private static Attribute Pads(long p) => Attribute.Ints(AttrNames.Pads, p, p, p, p);
}
