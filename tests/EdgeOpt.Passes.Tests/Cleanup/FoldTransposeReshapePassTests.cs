using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Cleanup;

public class FoldTransposeReshapePassTests
{
    private static readonly FoldTransposeReshapePass Pass = new();

    [Test]
    public void TransposePair_ComposedIntoOne()
    {
        var model = Chain([2, 3, 4], (b, x) => Transpose(b, Transpose(b, x, "t1", 1, 0, 2), "t2", 0, 2, 1));

        var report = PassChecks.RunAndCheck(Pass, model);

        var transpose = model.Graph.Nodes.Single(n => n.OpType == OpTypes.Transpose);
        Assert.That(transpose.GetInts("perm"), Is.EqualTo(new long[] { 1, 2, 0 }));
        Assert.That(transpose.Input(0)!.Name, Is.EqualTo("x"));
        Assert.That(report.Changes.Single().Message, Does.Contain("perm [1,2,0]"));
        PassChecks.AssertSameOutputs(Chain([2, 3, 4], (b, x) => Transpose(b, Transpose(b, x, "t1", 1, 0, 2), "t2", 0, 2, 1)), model);
    }

    [Test]
    public void TransposeChainOfThree_OneLeft()
    {
        Model Build() => Chain([2, 3, 4, 5], (b, x) => Transpose(b, Transpose(b, Transpose(b, x, "t1", 0, 2, 3, 1), "t2", 3, 1, 0, 2), "t3", 1, 0, 3, 2));
        var model = Build();

        PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Transpose), Is.EqualTo(1));
        PassChecks.AssertSameOutputs(Build(), model);
    }

    [Test]
    public void InverseTransposePair_BothRemoved()
    {
        var model = Chain([1, 3, 4, 5], (b, x) => Transpose(b, Transpose(b, x, "nhwc", 0, 2, 3, 1), "nchw", 0, 3, 1, 2));

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Relu" }));
        Assert.That(report.Changes.Single().Message, Does.Contain("composes to the identity"));
    }

    [Test]
    public void IdentityPermutation_Removed()
    {
        var model = Chain([2, 3], (b, x) => Transpose(b, b.Op(OpTypes.Relu, [x], "r"), "t", 0, 1));

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Transpose), Is.Zero);
        Assert.That(report.Changes.Single().Message, Is.EqualTo("removed: identity permutation"));
    }

    [Test]
    public void TransposeIntermediateUsedTwice_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var t1 = Transpose(b, b.Input("x", 2, 3), "t1", 1, 0);
        var model = b.Outputs(b.Op(OpTypes.Relu, [Transpose(b, t1, "t2", 1, 0)], "y"), b.Op(OpTypes.Relu, [t1], "z")).Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Transpose), Is.EqualTo(2));
        Assert.That(report.Skips.Single().Message, Is.EqualTo("'t1' has 2 uses"));
    }

    [Test]
    public void IdentityTransposeAfterSharedTranspose_RemovedAlone()
    {
        var b = new GraphBuilder();
        var t1 = Transpose(b, b.Input("x", 2, 3), "t1", 1, 0);
        var model = b.Outputs(b.Op(OpTypes.Relu, [Transpose(b, t1, "t2", 0, 1)], "y"), b.Op(OpTypes.Relu, [t1], "z")).Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Transpose), Is.EqualTo(1));
        Assert.That(report.Changes.Single().Message, Is.EqualTo("removed: identity permutation"));
    }

    [Test]
    public void ReshapePair_OneReshapeOfTheInput()
    {
        Model Build() => Chain([2, 3, 4], (b, x) => Reshape(b, Reshape(b, x, "r1", 6, 4), "r2", 4, -1));
        var model = Build();

        PassChecks.RunAndCheck(Pass, model);

        var reshape = model.Graph.Nodes.Single(n => n.OpType == OpTypes.Reshape);
        Assert.That(reshape.Input(0)!.Name, Is.EqualTo("x"));
        Assert.That(model.Graph.FindValue("r1_shape"), Is.Null, "the first Reshape's shape initializer is removed");
        PassChecks.AssertSameOutputs(Build(), model);
    }

    [Test]
    public void ReshapePairWhoseSecondCopiesADimension_CopyResolved()
    {
        Model Build() => Chain([2, 3, 4], (b, x) => Reshape(b, Reshape(b, x, "r1", 6, 4), "r2", 0, 2, 2));
        var model = Build();

        PassChecks.RunAndCheck(Pass, model);

        var reshape = model.Graph.Nodes.Single(n => n.OpType == OpTypes.Reshape);
        Assert.That(reshape.Input(1)!.Constant!.ToArray<long>(), Is.EqualTo(new long[] { 6, 2, 2 }));
        Assert.That(reshape.Input(1)!.Name, Is.EqualTo("r2_node/shape"));
        PassChecks.AssertSameOutputs(Build(), model);
    }

    [Test]
    public void ReshapePairRestoringTheShape_BothRemoved()
    {
        var model = Chain([2, 3, 4], (b, x) => Reshape(b, Reshape(b, x, "r1", 6, 4), "r2", 2, 3, 4));

        PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Relu" }));
        Assert.That(model.Graph.Initializers, Is.Empty);
    }

    [TestCase(new long[] { 2, 3, 4 }, new long[] { 2, 3, 4 }, TestName = "ReshapeToOwnStaticShape_Removed")]
    [TestCase(new long[] { -1, 3, 4 }, new long[] { 0, 3, 4 }, TestName = "ReshapeCopyingSymbolicBatch_Removed")]
    [TestCase(new long[] { -1, 3, 4 }, new long[] { -1, 3, 4 }, TestName = "ReshapeInferringSymbolicBatch_Removed")]
    [TestCase(new long[] { 2, 3, 4 }, new long[] { 2, -1, 0 }, TestName = "ReshapeInferringAndCopying_Removed")]
    public void ReshapeToOwnShape_Removed(long[] inputDims, long[] shape)
    {
        var model = SymbolicReshape(inputDims, shape);

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Reshape), Is.Zero);
        Assert.That(report.Changes.Single().Message, Is.EqualTo("removed: shape equals the input's"));
    }

    [TestCase(new long[] { 2, 3, 4 }, new long[] { 3, 2, 4 }, 0, false, TestName = "ReshapeChangingShape_Kept")]
    [TestCase(new long[] { -1, -1 }, new long[] { 0, -1 }, 0, false, TestName = "ReshapeInferringBesideUnknownCopy_Kept")]
    [TestCase(new long[] { -1, 3, 4 }, new long[] { 2, 3, 4 }, 0, false, TestName = "ReshapeFixingSymbolicDim_Kept")]
    [TestCase(new long[] { 2, 3 }, new long[] { 0, 3 }, 1, false, TestName = "ReshapeAllowZeroLiteralZero_Kept")]
    [TestCase(new long[] { 0, 3 }, new long[] { 0, 3 }, 1, true, TestName = "ReshapeAllowZeroOfEmpty_Removed")]
    public void ReshapeEdgeCases_RemovedOnlyWhenProvablyNoOp(long[] inputDims, long[] shape, long allowZero, bool removed)
    {
        var model = SymbolicReshape(inputDims, shape, allowZero);

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Reshape), Is.EqualTo(removed ? 0 : 1));
        Assert.That(report.Skips, Is.Empty);
    }

    [TestCase(13, new long[] { 1, 3 }, new long[] { 3, 1 }, TestName = "UnsqueezeThenSqueeze_Opset13_Cancel")]
    [TestCase(11, new long[] { 0, -1 }, new long[] { 0, 3 }, TestName = "UnsqueezeThenSqueeze_Opset11NegativeAxes_Cancel")]
    public void UnsqueezeThenSqueeze_Cancel(long opset, long[] unsqueezeAxes, long[] squeezeAxes)
    {
        Model Build() => Chain([2, 5], (b, x) => Squeeze(b, OpTypes.Squeeze, Squeeze(b, OpTypes.Unsqueeze, x, "u", opset, unsqueezeAxes), "s", opset, squeezeAxes), opset);
        var model = Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Relu" }));
        Assert.That(report.Changes.Single().Message, Does.Contain("Unsqueeze/Squeeze pair cancels"));
        PassChecks.AssertSameOutputs(Build(), model);
    }

    [Test]
    public void SqueezeThenUnsqueeze_Cancel()
    {
        var model = Chain([2, 1, 5, 1], (b, x) => Squeeze(b, OpTypes.Unsqueeze, Squeeze(b, OpTypes.Squeeze, x, "s", 13, 1, -1), "u", 13, 3, 1));

        PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Relu" }));
    }

    [Test]
    public void SqueezeWithoutAxesThenUnsqueeze_CancelWithStaticShape()
    {
        var b = new GraphBuilder();
        var s = b.Op(OpTypes.Squeeze, [b.Input("x", 1, 4, 1)], "s");
        var model = b.Outputs(b.Op(OpTypes.Relu, [Squeeze(b, OpTypes.Unsqueeze, s, "u", 13, 0, 2)], "y")).Build();

        PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Relu" }));
    }

    [Test]
    public void UnsqueezeThenSqueezeOfOtherAxes_SkippedWithReason()
    {
        var model = Chain([2, 5], (b, x) => Squeeze(b, OpTypes.Squeeze, Squeeze(b, OpTypes.Unsqueeze, x, "u", 13, 0, 2), "s", 13, 0));

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Squeeze), Is.EqualTo(1));
        Assert.That(report.Skips.Single().Message, Is.EqualTo("axes [0,2] and [0] do not cancel"));
    }

    [Test]
    public void PairFromGraphInputToGraphOutput_IdentityKeepsTheOutputName()
    {
        var b = new GraphBuilder();
        var model = b.Outputs(Transpose(b, Transpose(b, b.Input("x", 2, 3), "t1", 1, 0), "y", 1, 0)).Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Identity" }));
        Assert.That(report.Changes.Single().Message, Does.Contain("an Identity keeps graph output 'y'"));
    }

    [Test]
    public void NoOpTransposeFromGraphInputToGraphOutput_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var model = b.Outputs(Transpose(b, b.Input("x", 2, 3), "y", 0, 1)).Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Transpose), Is.EqualTo(1));
        Assert.That(report.Skips.Single().Message, Is.EqualTo("identity permutation, but carries graph input 'x' to graph output 'y'"));
    }

    [Test]
    public void SecondRun_ChangesNothing()
    {
        PassChecks.AssertIdempotent(Pass, Mixed());
        PassChecks.AssertIdempotent(Pass, Chain([2, 3, 4], (b, x) => Reshape(b, Reshape(b, x, "r1", 6, 4), "r2", 2, 3, 4)));
    }

    [Test]
    public void FreshCopies_GiveByteIdenticalOutput()
    {
        PassChecks.AssertDeterministic(Pass, Mixed);
    }

    /// <summary>Transpose pair, Reshape pair with a copied dimension, and an Unsqueeze/Squeeze pair in a row.</summary>
    private static Model Mixed() => Chain([2, 3, 4], (b, x) =>
    {
        var t = Transpose(b, Transpose(b, x, "t1", 2, 0, 1), "t2", 0, 2, 1);
        var r = Reshape(b, Reshape(b, t, "r1", 4, 6), "r2", 0, 3, 2);
        return Squeeze(b, OpTypes.Squeeze, Squeeze(b, OpTypes.Unsqueeze, r, "u", 13, 0), "s", 13, 0);
    });

    /// <summary>y = Relu(body(x)) with x: float[<paramref name="dims"/>].</summary>
    private static Model Chain(long[] dims, Func<GraphBuilder, Value, Value> body, long opset = 17)
    {
        var b = new GraphBuilder();
        var x = b.Input("x", dims);
        return b.Outputs(b.Op(OpTypes.Relu, [body(b, x)], "y")).Build(opset);
    }

    /// <summary>y = Relu(Reshape(x, shape)) with x's dims; -1 in <paramref name="inputDims"/> stands for a symbolic dimension.</summary>
    private static Model SymbolicReshape(long[] inputDims, long[] shape, long allowZero = 0)
    {
        var b = new GraphBuilder();
        var dims = inputDims.Select((d, i) => d < 0 ? Dim.Symbolic($"d{i}") : Dim.Of(d)).ToList();
        var x = b.Input("x", new TensorType(TensorDataType.Float, dims));
        var r = b.Op(OpTypes.Reshape, [x, b.Int64s("shape", shape)], "r", Attribute.Int("allowzero", allowZero));
        return b.Outputs(b.Op(OpTypes.Relu, [r], "y")).Build();
    }

    private static Value Transpose(GraphBuilder b, Value x, string output, params long[] perm) =>
        b.Op(OpTypes.Transpose, [x], output, Attribute.Ints("perm", perm));

    private static Value Reshape(GraphBuilder b, Value x, string output, params long[] shape) =>
        b.Op(OpTypes.Reshape, [x, b.Int64s(output + "_shape", shape)], output);

    /// <summary>A Squeeze or Unsqueeze with axes as an attribute (opset &lt; 13) or a constant input.</summary>
    private static Value Squeeze(GraphBuilder b, string op, Value x, string output, long opset, params long[] axes) => opset < 13
        ? b.Op(op, [x], output, Attribute.Ints("axes", axes))
        : b.Op(op, [x, b.Int64s(output + "_axes", axes)], output);
}
