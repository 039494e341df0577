using EdgeOpt.Passes.Tests.Pruning;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Tests.Quantization;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Cleanup;

public class FoldConvAffinePassTests
{
    private static readonly FoldConvAffinePass Pass = new();

    /// <summary>Paddle's learnable affine block: y = Relu(Conv(x) · s + t), s and t scalars of shape [1].</summary>
    [Test]
    public void ConvMulAddScalars_BothFoldedAndMatchReference()
    {
        static Model Build()
        {
            var b = new GraphBuilder();
            var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 3, 6, 6), b.Weight("w", 1, 4, 3, 3, 3), b.Weight("b", 2, 4)], "conv", Pads(1));
            var mul = b.Op(OpTypes.Mul, [b.Constant("s", [1], 0.94f), conv], "mul");
            var add = b.Op(OpTypes.Add, [mul, b.Constant("t", [1], 0.5f)], "add");
            return b.Outputs(b.Op(OpTypes.Relu, [add], "y")).Build(11);
        }
        var model = Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Mul) + PassChecks.Count(model, OpTypes.Add), Is.Zero, string.Join("; ", report.Skips));
        Assert.That(report.Changes.Select(c => c.Message), Is.EqualTo(new[]
        {
            "Mul by one constant folded into the weight and bias of Conv 'conv_node'",
            "Add by one constant folded into the bias of Conv 'conv_node'",
        }));
        Assert.That(model.Graph.Initializers.Select(i => i.Name).ToList(), Has.Count.EqualTo(2).And.All.StartWith("conv_node/affine_folded_"), "the old ones are removed");
        AssertSameOutputsInOrt(Build(), model);
        PassChecks.AssertIdempotent(Pass, model);
    }

    [TestCase(OpTypes.Mul, new long[] { 4, 1, 1 }, TestName = "ConvMulPerChannel_FoldedAndMatchesReference")]
    [TestCase(OpTypes.Div, new long[] { 1, 4, 1, 1 }, TestName = "ConvDivPerChannel_FoldedAndMatchesReference")]
    [TestCase(OpTypes.Add, new long[] { 1, 4, 1, 1 }, TestName = "ConvAddPerChannel_FoldedAndMatchesReference")]
    [TestCase(OpTypes.Sub, new long[0], TestName = "ConvSubScalar_FoldedAndMatchesReference")]
    public void ConvThenPerChannelOp_Folded(string op, long[] dims)
    {
        Model Build()
        {
            var b = new GraphBuilder();
            var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 4, 5, 5), b.Weight("w", 1, 4, 1, 3, 3)], "conv", Pads(1), Attribute.Int(AttrNames.Group, 4));
            var c = b.Weight("c", 3, 0.5, 2.0, dims);
            return b.Outputs(b.Op(op, [conv, c], "y")).Build(13);
        }
        var model = Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, op), Is.Zero, string.Join("; ", report.Skips));
        Assert.That(model.Graph.Outputs.Single().Name, Is.EqualTo("y"), "the graph output keeps its name");
        AssertSameOutputsInOrt(Build(), model);
    }

    [TestCase(OpTypes.Mul, 1, TestName = "ConvTransposeMul_FoldedAndMatchesReference")]
    [TestCase(OpTypes.Add, 2, TestName = "ConvTransposeGroup2Add_FoldedAndMatchesReference")]
    public void ConvTransposeThenPerChannelOp_Folded(string op, long group)
    {
        Model Build()
        {
            var b = new GraphBuilder();
            var up = b.Op(OpTypes.ConvTranspose, [b.Input("x", 1, 4, 3, 3), b.Weight("w", 1, 4, 3, 2, 2), b.Weight("b", 2, 3 * group)], "up",
                Attribute.Ints(AttrNames.Strides, 2, 2), Attribute.Int(AttrNames.Group, group));
            var y = b.Op(op, [up, b.Weight("c", 3, 0.5, 2.0, 1, 3 * group, 1, 1)], "y");
            return b.Outputs(b.Op(OpTypes.Sigmoid, [y], "out")).Build(13);
        }
        var model = Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, op), Is.Zero, string.Join("; ", report.Skips));
        AssertSameOutputsInOrt(Build(), model);
    }

    [Test]
    public void SpatialConstant_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 3, 3), b.Weight("w", 1, 3, 2, 1, 1)], "conv");
        var model = b.Outputs(b.Op(OpTypes.Mul, [conv, b.Weight("c", 2, 1, 3, 3, 3)], "y")).Build(13);

        AssertSkipped(model, "operand shape [1,3,3,3] is not per output channel of a [N,3,…] Conv output");
    }

    [Test]
    public void ConvOutputSecondOperandOfSub_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 3, 3), b.Weight("w", 1, 3, 2, 1, 1)], "conv");
        var model = b.Outputs(b.Op(OpTypes.Sub, [b.Constant("c", [], 1f), conv], "y")).Build(13);

        AssertSkipped(model, "the Conv output is the second operand of Sub");
    }

    [Test]
    public void ConvOutputSharedWithAnotherNode_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 3, 3), b.Weight("w", 1, 3, 2, 1, 1)], "conv");
        var model = b.Outputs(b.Op(OpTypes.Mul, [conv, b.Constant("c", [], 2f)], "y"), b.Op(OpTypes.Relu, [conv], "r")).Build(13);

        AssertSkipped(model, "'conv' has 2 uses");
    }

    [Test]
    public void SharedWeight_NewInitializerAndSharedTensorUntouched()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 2, 3, 3);
        var w = b.Weight("w", 1, 3, 2, 1, 1);
        var original = w.Initializer!.ToArray<float>();
        var scaled = b.Op(OpTypes.Mul, [b.Op(OpTypes.Conv, [x, w], "conv"), b.Constant("c", [], 2f)], "y");
        var model = b.Outputs(scaled, b.Op(OpTypes.Conv, [x, w], "other")).Build(13);

        PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.FindValue("other")!.Producer!.Input(1), Is.SameAs(w));
        Assert.That(w.Initializer!.ToArray<float>(), Is.EqualTo(original));
    }

    /// <summary>Original vs rewritten in ONNX Runtime (graph optimizations off) on seeded inputs in [-2, 2), within the exact-rewrite tolerance.</summary>
    private static void AssertSameOutputsInOrt(Model original, Model folded) => PruneOrt.AssertSameOutputs(original, folded, low: -2f, high: 2f);

    private static void AssertSkipped(Model model, string reason)
    {
        var before = model.Graph.Nodes.Count;

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(report.Changes, Is.Empty);
        Assert.That(model.Graph.Nodes.Count, Is.EqualTo(before));
        Assert.That(report.Skips.Select(s => s.Message), Has.Member(reason));
    }

    private static Attribute Pads(long p) => Attribute.Ints(AttrNames.Pads, p, p, p, p);
}
