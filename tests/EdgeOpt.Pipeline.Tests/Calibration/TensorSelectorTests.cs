using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Pipeline.Tests.Calibration;

public class TensorSelectorTests
{
    /// <summary>
    /// x[1,8] → MatMul(x, Transpose(wt)) → Add(b) → Relu → y, plus Shape(x) (int64) and Sigmoid(y) → z. Transpose(wt)
    /// computes from a weight only, so it is not an activation.
    /// </summary>
    internal static Model Model()
    {
        var g = new GraphBuilder();
        var x = g.Input("x", 1, 8);
        var w = g.Op(OpTypes.Transpose, [g.Weight("wt", 1, 6, 8)], "w", Attribute.Ints(AttrNames.Perm, 1, 0));
        var mm = g.Op(OpTypes.MatMul, [x, w], "mm");
        var sum = g.Op(OpTypes.Add, [mm, g.Weight("b", 2, 6)], "sum");
        var y = g.Op(OpTypes.Relu, [sum], "y");
        var shape = g.Op(OpTypes.Shape, [x], "shape");
        var z = g.Op(OpTypes.Sigmoid, [y], "z");
        return g.Outputs(y, z, shape).Build();
    }

    [Test]
    public void Activations_InputsAndFloatNodeOutputs_NotWeightsOrShapes()
    {
        var names = TensorSelector.Activations.Select(Model()).Select(t => t.Name);

        Assert.That(names, Is.EqualTo(new[] { "x", "mm", "sum", "y", "z" }));
    }

    [Test]
    public void QuantizableNodeIo_OnlyAroundTheGivenOps()
    {
        var names = TensorSelector.QuantizableNodeIo([OpTypes.MatMul]).Select(Model()).Select(t => t.Name);

        Assert.That(names, Is.EqualTo(new[] { "x", "mm" }));
    }

    [Test]
    public void Named_KeepsTheGivenOrder()
    {
        var names = TensorSelector.Named(["z", "mm"]).Select(Model()).Select(t => t.Name);

        Assert.That(names, Is.EqualTo(new[] { "z", "mm" }));
    }

    [TestCase("nope", "no tensor named 'nope'")]
    [TestCase("wt", "constant")]
    [TestCase("shape", "int64")]
    [TestCase("w", "constants only")]
    public void Named_NotAnActivation_SaysWhy(string name, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => TensorSelector.Named([name]).Select(Model()))!;

        Assert.That(e.Message, Does.Contain(expected));
    }

    [Test]
    public void Named_NotRequired_LeavesOutWhatIsNotAnActivation()
    {
        var names = TensorSelector.Named(["wt", "sum", "nope"], requireAll: false).Select(Model()).Select(t => t.Name);

        Assert.That(names, Is.EqualTo(new[] { "sum" }));
    }

    [Test]
    public void Where_FiltersCandidates()
    {
        var names = TensorSelector.Where("outputs of Relu", t => t.Value.Producer?.OpType == OpTypes.Relu).Select(Model()).Select(t => t.Name);

        Assert.That(names, Is.EqualTo(new[] { "y" }));
    }
}
