using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.TestKit;

/// <summary>Small models built in code for unit tests.</summary>
public static class TinyModels
{
    /// <summary>y = Relu(MatMul(x, w) + b) with x: float[1,k], w: [k,n] seeded random, b: [n].</summary>
    public static Model MatMulAddRelu(int k = 4, int n = 3, int seed = 1)
    {
        var g = new Graph("tiny");
        var x = g.AddInput("x", TensorType.Of(TensorDataType.Float, 1, k));
        var w = g.AddInitializer(Tensor.Create("w", [k, n], Random(k * n, seed)));
        var b = g.AddInitializer(Tensor.Create("b", [n], Random(n, seed + 1)));
        var mm = g.AddNode(OpTypes.MatMul, [x, w], ["mm"]);
        var add = g.AddNode(OpTypes.Add, [mm.Output(), b], ["sum"]);
        var relu = g.AddNode(OpTypes.Relu, [add.Output()], ["y"]);
        g.AddOutput(relu.Output());
        return WithOpset(g);
    }

    /// <summary>A model around <paramref name="graph"/> importing ONNX opset <paramref name="opset"/>.</summary>
    public static Model WithOpset(Graph graph, long opset = 17)
    {
        var model = new Model(graph) { ProducerName = "edgeopt-tests" };
        model.Opsets.Add(new OpsetId("", opset));
        return model;
    }

    /// <summary>Seeded uniform values in [-1, 1).</summary>
    public static float[] Random(int count, int seed)
    {
        var r = new Random(seed);
        var data = new float[count];
        for (var i = 0; i < count; i++) data[i] = (float)(r.NextDouble() * 2 - 1);
        return data;
    }
}
