using EdgeOpt.Onnx.Ir;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary>Small graphs for the pruning tests, and a helper that zeroes channels so pruning them must be exact.</summary>
internal static class PruneModels
{
    private static Attribute Pads(long p) => Attribute.Ints(AttrNames.Pads, p, p, p, p);

    /// <summary>x[1,3,8,8] → conv1 (8 ch, 3×3) → BatchNormalization → Relu → conv2 (4 ch, 3×3) → y.</summary>
    public static Model ConvBnReluConv()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 3, 8, 8);
        var c1 = b.Op(OpTypes.Conv, [x, b.Weight("w1", 1, 8, 3, 3, 3), b.Weight("b1", 2, 8)], "c1", Pads(1));
        var bn = b.Op(OpTypes.BatchNormalization,
            [c1, b.Weight("bn_scale", 3, 0.5, 1.5, 8), b.Weight("bn_bias", 4, 8), b.Weight("bn_mean", 5, 8), b.Weight("bn_var", 6, 0.5, 2, 8)], "bn");
        var r = b.Op(OpTypes.Relu, [bn], "r");
        var y = b.Op(OpTypes.Conv, [r, b.Weight("w2", 7, 4, 8, 3, 3), b.Weight("b2", 8, 4)], "y", Pads(1));
        return b.Outputs(y).Build();
    }

    /// <summary>x[1,3,8,8] → conv1 (8 ch, 1×1) → Relu → depthwise (group 8, 3×3) → Relu → conv3 (4 ch) → y.</summary>
    public static Model Depthwise()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 3, 8, 8);
        var c1 = b.Op(OpTypes.Conv, [x, b.Weight("w1", 1, 8, 3, 1, 1), b.Weight("b1", 2, 8)], "c1");
        var r1 = b.Op(OpTypes.Relu, [c1], "r1");
        var dw = b.Op(OpTypes.Conv, [r1, b.Weight("wdw", 3, 8, 1, 3, 3), b.Weight("bdw", 4, 8)], "dw", Pads(1), Attribute.Int(AttrNames.Group, 8));
        var r2 = b.Op(OpTypes.Relu, [dw], "r2");
        var y = b.Op(OpTypes.Conv, [r2, b.Weight("w3", 5, 4, 8, 1, 1), b.Weight("b3", 6, 4)], "y");
        return b.Outputs(y).Build();
    }

    /// <summary>a = Relu(conva(x)); s = Relu(a + convb(a)); y = convc(s): conva and convb meet at the Add.</summary>
    public static Model Residual()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 3, 8, 8);
        var a = b.Op(OpTypes.Relu, [b.Op(OpTypes.Conv, [x, b.Weight("wa", 1, 8, 3, 3, 3), b.Weight("ba", 2, 8)], "ca", Pads(1))], "a");
        var cb = b.Op(OpTypes.Conv, [a, b.Weight("wb", 3, 8, 8, 3, 3), b.Weight("bb", 4, 8)], "cb", Pads(1));
        var s = b.Op(OpTypes.Relu, [b.Op(OpTypes.Add, [a, cb], "sum")], "s");
        var y = b.Op(OpTypes.Conv, [s, b.Weight("wc", 5, 4, 8, 1, 1), b.Weight("bc", 6, 4)], "y");
        return b.Outputs(y).Build();
    }

    /// <summary>Concat(Relu(conva(x)) [4 ch], Relu(convb(x)) [6 ch]) → convc (5 ch, 1×1) → y.</summary>
    public static Model Concat()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 3, 8, 8);
        var a = b.Op(OpTypes.Relu, [b.Op(OpTypes.Conv, [x, b.Weight("wa", 1, 4, 3, 3, 3), b.Weight("ba", 2, 4)], "ca", Pads(1))], "a");
        var c = b.Op(OpTypes.Relu, [b.Op(OpTypes.Conv, [x, b.Weight("wb", 3, 6, 3, 1, 1), b.Weight("bb", 4, 6)], "cb")], "bo");
        var cat = b.Op(OpTypes.Concat, [a, c], "cat", Attribute.Int(AttrNames.Axis, 1));
        var y = b.Op(OpTypes.Conv, [cat, b.Weight("wc", 5, 5, 10, 1, 1), b.Weight("bc", 6, 5)], "y");
        return b.Outputs(y).Build();
    }

    /// <summary>x[1,3,6,6] → conv (8 ch) → Relu → MaxPool 2×2 → Flatten → Gemm (10, transB) → y[1,10].</summary>
    public static Model FlattenGemm(bool reshape = false)
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 3, 6, 6);
        var c = b.Op(OpTypes.Conv, [x, b.Weight("w", 1, 8, 3, 3, 3), b.Weight("bias", 2, 8)], "c", Pads(1));
        var r = b.Op(OpTypes.Relu, [c], "r");
        var p = b.Op(OpTypes.MaxPool, [r], "p", Attribute.Ints(AttrNames.KernelShape, 2, 2), Attribute.Ints(AttrNames.Strides, 2, 2));
        var f = reshape
            ? b.Op(OpTypes.Reshape, [p, b.Int64s("flat_shape", 1, 72)], "f")
            : b.Op(OpTypes.Flatten, [p], "f", Attribute.Int(AttrNames.Axis, 1));
        var y = b.Op(OpTypes.Gemm, [f, b.Weight("fc_w", 3, 10, 72), b.Weight("fc_b", 4, 10)], "y", Attribute.Int(AttrNames.TransB, 1));
        return b.Outputs(y).Build();
    }

    /// <summary>x[2,16] → MatMul (16→12) → Add bias → Relu → MatMul (12→5) → y.</summary>
    public static Model MatMulMlp()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 2, 16);
        var h = b.Op(OpTypes.MatMul, [x, b.Weight("w1", 1, 16, 12)], "h");
        var r = b.Op(OpTypes.Relu, [b.Op(OpTypes.Add, [h, b.Weight("b1", 2, 12)], "hb")], "r");
        var y = b.Op(OpTypes.MatMul, [r, b.Weight("w2", 3, 12, 5)], "y");
        return b.Outputs(y).Build();
    }

    /// <summary>
    /// x[1,3,8,8] → conv1 (8 ch) → Relu → r, and <paramref name="consumer"/>(r) built by the caller; the conv is named <c>c1_node</c>.
    /// </summary>
    public static Model ConvInto(Func<GraphBuilder, Value, Value[]> consumer)
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 3, 8, 8);
        var r = b.Op(OpTypes.Relu, [b.Op(OpTypes.Conv, [x, b.Weight("w1", 1, 8, 3, 3, 3), b.Weight("b1", 2, 8)], "c1", Pads(1))], "r");
        return b.Outputs(consumer(b, r)).Build();
    }

    /// <summary>A chain of <paramref name="layers"/> Gemms (transB) of width <paramref name="width"/>, weight k scaled by <paramref name="scales"/>[k].</summary>
    public static Model GemmChain(int layers, int width, params float[] scales)
    {
        var b = new GraphBuilder();
        var h = b.Input("x", 1, width);
        for (var k = 0; k < layers; k++)
        {
            var s = k < scales.Length ? scales[k] : 1f;
            h = b.Op(OpTypes.Gemm, [h, b.Weight($"w{k}", 10 + k, -s, s, width, width)], $"g{k}", Attribute.Int(AttrNames.TransB, 1));
        }
        return b.Outputs(h).Build();
    }

    /// <summary>Sets the slices <paramref name="indices"/> of initializer <paramref name="name"/> along <paramref name="axis"/> to zero (floats).</summary>
    public static void Zero(Model model, string name, int axis, params long[] indices) => Zero(model.Graph, name, axis, indices);

    public static void Zero(Graph graph, string name, int axis, params long[] indices)
    {
        var v = graph.FindValue(name) ?? throw new ArgumentException($"no value '{name}'");
        var t = v.Initializer ?? v.Constant ?? throw new ArgumentException($"'{name}' is not constant");
        var data = t.ToSingles();
        var dims = t.DimsArray();
        long outer = 1, inner = 1;
        for (var i = 0; i < axis; i++) outer *= dims[i];
        for (var i = axis + 1; i < dims.Length; i++) inner *= dims[i];
        for (var o = 0L; o < outer; o++)
        {
            foreach (var c in indices)
            {
                Array.Clear(data, (int)((o * dims[axis] + c) * inner), (int)inner);
            }
        }
        var replacement = Tensor.Create(t.Name, dims, data);
        if (v.Initializer != null) v.Graph.SetInitializer(v, replacement);
        else throw new ArgumentException($"'{name}' is a Constant node's value");
    }

    /// <summary>The initializer or constant named <paramref name="name"/>.</summary>
    public static Tensor ConstantOf(Model model, string name) =>
        model.Graph.FindValue(name)?.Constant ?? model.Graph.FindValue(name)?.Initializer ?? throw new ArgumentException($"no constant '{name}'");

    /// <summary>The weight tensor of node <paramref name="node"/> (input 1) or another input.</summary>
    public static Tensor InputOf(Model model, string node, int index = 1) =>
        model.Graph.Nodes.Single(n => n.Name == node).Input(index)!.Constant!;
}
