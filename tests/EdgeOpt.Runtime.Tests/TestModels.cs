using EdgeOpt.Onnx.Ir;
using EdgeOpt.TestKit;
using ValueType = EdgeOpt.Onnx.Ir.ValueType;

namespace EdgeOpt.Runtime.Tests;

/// <summary>Tiny models built in code for the binding's tests.</summary>
internal static class TestModels
{
    /// <summary>y = Identity(x) with x, y of <paramref name="type"/> and shape <paramref name="dims"/>.</summary>
    public static Model Identity(TensorDataType type, params long[] dims)
    {
        var g = new Graph("identity");
        var x = g.AddInput("x", TensorType.Of(type, dims));
        var y = g.AddNode(OpTypes.Identity, [x], ["y"], name: "id").Output();
        y.Type = TensorType.Of(type, dims);
        g.AddOutput(y);
        return TinyModels.WithOpset(g);
    }

    /// <summary>y = Relu(MatMul(x, w) + b), x: float[1,4] → y: float[1,3] (three nodes).</summary>
    public static Model MatMulAddRelu()
    {
        var model = TinyModels.MatMulAddRelu();
        model.Graph.Outputs[0].Type = TensorType.Of(TensorDataType.Float, 1, 3);
        return model;
    }

    /// <summary>s = SequenceConstruct(x): a model whose output is a sequence, not a tensor.</summary>
    public static Model SequenceOutput()
    {
        var g = new Graph("sequence");
        var x = g.AddInput("x", TensorType.Of(TensorDataType.Float, 2));
        var s = g.AddNode("SequenceConstruct", [x], ["s"], name: "seq").Output();
        s.Type = new SequenceType(TensorType.Of(TensorDataType.Float, 2));
        g.AddOutput(s);
        return TinyModels.WithOpset(g);
    }

    /// <summary>y = x + 1 over float[batch, 4], batch symbolic.</summary>
    public static Model SymbolicBatch()
    {
        var g = new Graph("symbolic");
        ValueType type = new TensorType(TensorDataType.Float, [Dim.Symbolic("batch"), Dim.Of(4)]);
        var x = g.AddInput("x", type);
        var one = g.AddInitializer(Tensor.Create("one", [], new[] { 1f }));
        var y = g.AddNode(OpTypes.Add, [x, one], ["y"], name: "add").Output();
        y.Type = type;
        g.AddOutput(y);
        return TinyModels.WithOpset(g);
    }
}
