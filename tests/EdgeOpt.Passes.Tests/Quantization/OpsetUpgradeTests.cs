using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Validation;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Quantization;

public class OpsetUpgradeTests
{
    /// <summary>Opset 9: Softmax (last axis) → Clip (attributes) → Slice (attributes) → Upsample (nearest) → Unsqueeze → Squeeze (attributes).</summary>
    private static Model Opset9Chain()
    {
        var b = new GraphBuilder("old");
        var x = b.Input("x", 1, 2, 4, 4);
        var s = b.Op(OpTypes.Softmax, [x], "s", Attribute.Int(AttrNames.Axis, 3));
        var c = b.Op(OpTypes.Clip, [s], "c", Attribute.Float(AttrNames.Min, 0.1f), Attribute.Float(AttrNames.Max, 0.4f));
        var sl = b.Op(OpTypes.Slice, [c], "sl", Attribute.Ints("starts", 1), Attribute.Ints("ends", 3), Attribute.Ints(AttrNames.Axes, 2));
        var up = b.Op(OpTypes.Upsample, [sl, b.Constant("scales", [4], 1f, 1f, 2f, 2f)], "up", Attribute.String("mode", "nearest"));
        var un = b.Op(OpTypes.Unsqueeze, [up], "un", Attribute.Ints(AttrNames.Axes, 0));
        var y = b.Op(OpTypes.Squeeze, [un], "y", Attribute.Ints(AttrNames.Axes, 0));
        return b.Outputs(y).Build(opset: 9);
    }

    [Test]
    public void Opset9Chain_RaisedTo13_SameOutputsInOrt()
    {
        var model = Opset9Chain();
        var feed = QuantOrt.RandomFeed(model, 3);
        var expected = QuantOrt.Run(model, feed)["y"];

        Assert.That(OpsetUpgrade.Blocker(model, 13), Is.Null);
        var rewrites = OpsetUpgrade.Apply(model, 13);

        Assert.That(model.OpsetVersion(), Is.EqualTo(13));
        Assert.That(rewrites, Has.Count.EqualTo(5), string.Join("\n", rewrites));
        Assert.That(PassChecks.Count(model, OpTypes.Upsample), Is.Zero);
        Assert.That(model.Graph.Nodes.Where(n => n.OpType != OpTypes.Softmax).SelectMany(n => n.Attributes).Select(a => a.Name),
            Is.SubsetOf(new[] { "mode", "coordinate_transformation_mode", "nearest_mode" }));
        ModelValidator.ThrowIfInvalid(model, "upgrade");
        Assert.That(QuantOrt.Run(model, feed)["y"], Is.EqualTo(expected));
    }

    [Test]
    public void SoftmaxOverInnerAxis_BlocksAndLeavesTheModel()
    {
        var b = new GraphBuilder();
        var model = b.Outputs(b.Op(OpTypes.Softmax, [b.Input("x", 2, 3, 4)], "y", Attribute.Int(AttrNames.Axis, 1))).Build(opset: 11);

        Assert.That(OpsetUpgrade.Blocker(model, 13), Does.Contain("flattens the trailing dimensions"));
        Assert.Throws<InvalidOperationException>(() => OpsetUpgrade.Apply(model, 13));
        Assert.That(model.OpsetVersion(), Is.EqualTo(11));
    }

    [Test]
    public void OpWithoutRule_Blocks()
    {
        var b = new GraphBuilder();
        var model = b.Outputs(b.Op("Scatter", [b.Input("x", 4), b.Input("i", 1), b.Input("u", 1)], "y")).Build(opset: 9);

        Assert.That(OpsetUpgrade.Blocker(model, 13), Does.EndWith("no upgrade rule for Scatter"));
    }

    [Test]
    public void AlreadyAtTarget_NothingToDo()
    {
        var model = QuantModels.Cnn();

        Assert.That(OpsetUpgrade.Apply(model, 13), Is.Empty);
        Assert.That(model.OpsetVersion(), Is.EqualTo(13));
    }
}
