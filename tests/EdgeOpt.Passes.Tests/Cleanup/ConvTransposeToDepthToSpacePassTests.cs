using EdgeOpt.Passes.Tests.Pruning;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Tests.Quantization;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Cleanup;

public class ConvTransposeToDepthToSpacePassTests
{
    private static readonly ConvTransposeToDepthToSpacePass Pass = new();

    private static Model Build(long k, bool bias, bool relu, params Attribute[] extra)
    {
        var b = new GraphBuilder();
        Value?[] inputs = bias
            ? [b.Input("x", 1, 5, 3, 4), b.Weight("w", 1, 5, 3, k, k), b.Weight("b", 2, 3)]
            : [b.Input("x", 1, 5, 3, 4), b.Weight("w", 1, 5, 3, k, k)];
        var up = b.Op(OpTypes.ConvTranspose, inputs, "up", [Attribute.Ints(AttrNames.Strides, k, k), .. extra]);
        return b.Outputs(relu ? b.Op(OpTypes.Relu, [up], "y") : up).Build(13);
    }

    [TestCase(2L, true, false, TestName = "Stride2WithBias_ConvAndDepthToSpaceMatchReference")]
    [TestCase(2L, false, true, TestName = "Stride2NoBiasThenRelu_ReluMovedAndMatchesReference")]
    [TestCase(3L, true, true, TestName = "Stride3WithBiasThenRelu_MatchesReference")]
    public void StrideEqualsKernel_Rewritten(long k, bool bias, bool relu)
    {
        var model = Build(k, bias, relu);

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.ConvTranspose), Is.Zero, string.Join("; ", report.Skips));
        var nodes = model.Graph.Nodes.Where(n => !n.IsConstantNode).Select(n => n.OpType).ToList();
        Assert.That(nodes, Is.EqualTo(relu
            ? new[] { OpTypes.Conv, OpTypes.Relu, ConvTransposeToDepthToSpacePass.DepthToSpace }
            : new[] { OpTypes.Conv, ConvTransposeToDepthToSpacePass.DepthToSpace }));
        Assert.That(model.Graph.Outputs.Single().Name, Is.EqualTo(relu ? "y" : "up"));
        var conv = model.Graph.Nodes.Single(n => n.OpType == OpTypes.Conv);
        Assert.That(conv.Input(ConvInput.W)!.Constant!.Dims, Is.EqualTo(new[] { 3 * k * k, 5, 1, 1 }));
        AssertSameOutputsInOrt(Build(k, bias, relu), model);
        PassChecks.AssertIdempotent(Pass, model);
    }

    [Test]
    public void Pads_SkippedWithReason() =>
        AssertSkipped(Build(2, true, false, Attribute.Ints(AttrNames.Pads, 1, 1, 1, 1)), "has pads");

    [Test]
    public void OutputPadding_SkippedWithReason() =>
        AssertSkipped(Build(2, true, false, Attribute.Ints(AttrNames.OutputPadding, 1, 1)), "has output_padding");

    [Test]
    public void StrideBelowKernel_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var up = b.Op(OpTypes.ConvTranspose, [b.Input("x", 1, 2, 3, 3), b.Weight("w", 1, 2, 2, 3, 3)], "up", Attribute.Ints(AttrNames.Strides, 2, 2));
        AssertSkipped(b.Outputs(up).Build(13), "strides are not [3, 3]");
    }

    /// <summary>Original vs rewritten in ONNX Runtime (graph optimizations off) on seeded inputs in [-2, 2), within the exact-rewrite tolerance.</summary>
    private static void AssertSameOutputsInOrt(Model original, Model rewritten) => PruneOrt.AssertSameOutputs(original, rewritten, low: -2f, high: 2f);

    private static void AssertSkipped(Model model, string reason)
    {
        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(report.Changes, Is.Empty);
        Assert.That(PassChecks.Count(model, OpTypes.ConvTranspose), Is.EqualTo(1));
        Assert.That(report.Skips.Select(s => s.Message), Has.Member(reason));
    }
}
