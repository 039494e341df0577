using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary>Channels that reach something <see cref="PruneChannelsPass"/> cannot follow leave the layer alone, with the reason.</summary>
public class PruneChannelsSkipTests
{
    private static string SkipReason(Model model)
    {
        var before = ModelWriter.ToBytes(model);
        var report = new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.5 }).Run(model, PassContext.Default);
        Assert.That(report.Changes, Is.Empty);
        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before), "a skipped group changes nothing");
        return report.Skips.Single(s => s.Target == "c1_node (Conv)").Message;
    }

    /// <summary>A 1×1 conv of 8 input channels.</summary>
    private static Value Conv(GraphBuilder b, Value x, string name, int channels, int group = 1) =>
        b.Op(OpTypes.Conv, [x, b.Weight(name + "_w", 9, channels, 8 / group, 1, 1)], name, Attribute.Int(AttrNames.Group, group));

    [Test]
    public void GraphOutput_Stops() =>
        Assert.That(SkipReason(PruneModels.ConvInto((b, r) => [r])), Does.Contain("'r' is a graph output"));

    [Test]
    public void Shape_Stops() =>
        Assert.That(SkipReason(PruneModels.ConvInto((b, r) => [b.Op(OpTypes.Shape, [r], "shape"), Conv(b, r, "c2", 4)])), Does.Contain("Shape").And.Contain("channel count"));

    [Test]
    public void ReshapeMixingChannels_Stops() =>
        Assert.That(
            SkipReason(PruneModels.ConvInto((b, r) => [b.Op(OpTypes.Relu, [b.Op(OpTypes.Reshape, [r, b.Int64s("shape", 1, 2, 256)], "mixed")], "y")])),
            Does.Contain("mixes the channels"));

    [Test]
    public void UnknownConsumer_Stops() =>
        Assert.That(
            SkipReason(PruneModels.ConvInto((b, r) => [b.Op(OpTypes.Softmax, [r], "soft", Attribute.Int(AttrNames.Axis, 1))])),
            Does.Contain("does not follow Softmax"));

    [Test]
    public void GroupedConv_Stops() =>
        Assert.That(SkipReason(PruneModels.ConvInto((b, r) => [Conv(b, r, "g", 4, group: 2)])), Does.Contain("grouped").And.Contain("group 2"));

    [Test]
    public void ChannelPadding_Stops() =>
        Assert.That(
            SkipReason(PruneModels.ConvInto((b, r) => [Conv(b, b.Op(OpTypes.Pad, [r, b.Int64s("pads", 0, 1, 0, 0, 0, 1, 0, 0)], "padded"), "c2", 4)])),
            Does.Contain("pads the channel axis"));

    [Test]
    public void JoinWithAGraphInput_Stops()
    {
        var model = PruneModels.ConvInto((b, r) => [Conv(b, b.Op(OpTypes.Add, [r, b.Input("z", 1, 8, 8, 8)], "sum"), "c2", 4)]);

        Assert.That(SkipReason(model), Does.Contain("'z' is a graph input"));
    }

    [Test]
    public void SpatialPaddingAndResize_AreFollowed()
    {
        var model = PruneModels.ConvInto((b, r) =>
        {
            var padded = b.Op(OpTypes.Pad, [r, b.Int64s("pads", 0, 0, 1, 1, 0, 0, 1, 1)], "padded");
            var resized = b.Op(OpTypes.Resize, [padded, null, b.Constant("scales", [4], 1f, 1f, 2f, 2f)], "resized");
            return [Conv(b, resized, "c2", 4)];
        });

        var report = new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.5 }).Run(model, PassContext.Default);

        Assert.That(report.Changes.Select(c => c.Target), Does.Contain("c1_node (Conv)"));
        Assert.That(PruneModels.InputOf(model, "c2_node").Dims[1], Is.EqualTo(4));
    }
}
