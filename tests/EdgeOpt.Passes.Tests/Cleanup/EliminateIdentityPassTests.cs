using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Cleanup;

public class EliminateIdentityPassTests
{
    private static readonly EliminateIdentityPass Pass = new();

    /// <summary>x → Relu → Identity → Identity → Relu → y.</summary>
    private static Model IdentityChain()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 4);
        var r = b.Op(OpTypes.Relu, [x], "r");
        var i1 = b.Op(OpTypes.Identity, [r], "i1");
        var i2 = b.Op(OpTypes.Identity, [i1], "i2");
        return b.Outputs(b.Op(OpTypes.Relu, [i2], "y")).Build();
    }

    [Test]
    public void IdentityChain_RemovedAndUsesRewired()
    {
        var model = IdentityChain();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Relu", "Relu" }));
        Assert.That(model.Graph.Nodes[1].Input(0), Is.SameAs(model.Graph.Nodes[0].Output(0)));
        Assert.That(report.Changes, Has.Count.EqualTo(2));
        Assert.That(report.Skips, Is.Empty);
    }

    [Test]
    public void IdentityFeedingGraphOutput_RemovedAndOutputNameKept()
    {
        var b = new GraphBuilder();
        var r = b.Op(OpTypes.Relu, [b.Input("x", 1, 4)], "r");
        var model = b.Outputs(b.Op(OpTypes.Identity, [r], "y")).Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Identity), Is.Zero);
        Assert.That(model.Graph.Outputs.Single().Producer!.OpType, Is.EqualTo(OpTypes.Relu));
        Assert.That(report.Changes.Single().Message, Does.Contain("takes over graph output 'y'"));
    }

    [Test]
    public void IdentityCarryingGraphInputToOutput_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var model = b.Outputs(b.Op(OpTypes.Identity, [b.Input("x", 1, 4)], "y")).Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Identity), Is.EqualTo(1));
        Assert.That(report.Changes, Is.Empty);
        Assert.That(report.Skips.Single().Message, Does.Contain("carries graph input 'x' to graph output 'y'"));
    }

    [Test]
    public void IdentityCarryingInitializerToOutput_SkippedWithReason()
    {
        var b = new GraphBuilder();
        b.Input("x", 1, 4);
        var model = b.Outputs(b.Op(OpTypes.Identity, [b.Weight("w", 1, 4)], "y")).Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Identity), Is.EqualTo(1));
        Assert.That(report.Skips.Single().Message, Does.Contain("carries initializer 'w'"));
    }

    [Test]
    public void IdentityOfValueThatIsAlreadyAnOutput_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var r = b.Op(OpTypes.Relu, [b.Input("x", 1, 4)], "r");
        var model = b.Outputs(r, b.Op(OpTypes.Identity, [r], "y")).Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Identity), Is.EqualTo(1));
        Assert.That(report.Skips.Single().Message, Does.Contain("is itself an output"));
    }

    [TestCase(10, TestName = "InferenceDropout_Opset10RatioAttribute_Removed")]
    [TestCase(17, TestName = "InferenceDropout_Opset17NoTrainingMode_Removed")]
    public void InferenceDropout_Removed(long opset)
    {
        var b = new GraphBuilder();
        var r = b.Op(OpTypes.Relu, [b.Input("x", 1, 4)], "r");
        Attribute[] ratio = opset >= 12 ? [] : [Attribute.Float("ratio", 0.3f)];
        var d = b.Node(OpTypes.Dropout, [r], ["d", "mask"], ratio);
        var model = b.Outputs(b.Op(OpTypes.Relu, [d.Output(0)], "y")).Build(opset);

        PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Dropout), Is.Zero);
    }

    [Test]
    public void DropoutWithConstantFalseTrainingMode_Removed()
    {
        var model = DropoutModel(b => b.Constant("training", [], (bool)false));

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Dropout), Is.Zero);
        Assert.That(report.Changes.Single().Message, Does.Contain("takes over graph output 'y'"));
        Assert.That(model.Graph.FindValue("training"), Is.Null, "the unused training_mode initializer is removed");
    }

    [Test]
    public void DropoutInTrainingMode_SkippedWithReason()
    {
        var model = DropoutModel(b => b.Constant("training", [], (bool)true));

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Dropout), Is.EqualTo(1));
        Assert.That(report.Skips.Single().Message, Is.EqualTo("training_mode is true"));
    }

    [Test]
    public void DropoutWithRuntimeTrainingMode_SkippedWithReason()
    {
        var model = DropoutModel(b => b.Input("training", new TensorType(TensorDataType.Bool, [])));

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(report.Skips.Single().Message, Does.Contain("training_mode 'training' is not a constant"));
    }

    [Test]
    public void DropoutWithExplicitIsTestZero_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var r = b.Op(OpTypes.Relu, [b.Input("x", 1, 4)], "r");
        var model = b.Outputs(b.Op(OpTypes.Dropout, [r], "y", Attribute.Int("is_test", 0))).Build(6);

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(report.Skips.Single().Message, Does.Contain("is_test=0"));
    }

    [Test]
    public void DropoutWithMaskUsed_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var r = b.Op(OpTypes.Relu, [b.Input("x", 1, 4)], "r");
        var d = b.Node(OpTypes.Dropout, [r], ["d", "mask"]);
        var model = b.Outputs(d.Output(0), d.Output(1)).Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.Dropout), Is.EqualTo(1));
        Assert.That(report.Skips.Single().Message, Is.EqualTo("mask output 'mask' is used"));
    }

    [Test]
    public void IdentityInSubgraph_OuterInputUsedDirectlyOrKeptAsBranchOutput()
    {
        var model = IfWithIdentities();
        var ifNode = model.Graph.Nodes.Single(n => n.OpType == OpTypes.If);
        var thenBranch = ifNode.GetAttribute("then_branch")!.AsGraph();
        var elseBranch = ifNode.GetAttribute("else_branch")!.AsGraph();
        var outer = model.Graph.FindValue("r")!;

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(thenBranch.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Relu" }), "the then-branch Identity is gone");
        Assert.That(thenBranch.Nodes[0].Input(0), Is.SameAs(outer), "the branch reads the outer value directly");
        Assert.That(elseBranch.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { "Identity" }), "the else-branch Identity carries the outer value out");
        Assert.That(report.Skips.Single().Message, Does.Contain("subgraph output 'e_out' would carry 'r' from an enclosing graph"));
    }

    [Test]
    public void SecondRun_ChangesNothing()
    {
        PassChecks.AssertIdempotent(Pass, IdentityChain());
        PassChecks.AssertIdempotent(Pass, IfWithIdentities());
        PassChecks.AssertIdempotent(Pass, DropoutModel(b => b.Constant("training", [], (bool)false)));
    }

    [Test]
    public void FreshCopies_GiveByteIdenticalOutput()
    {
        PassChecks.AssertDeterministic(Pass, IdentityChain);
        PassChecks.AssertDeterministic(Pass, IfWithIdentities);
    }

    /// <summary>y = Dropout(Relu(x), ratio, training) with training from <paramref name="training"/> (opset 13).</summary>
    private static Model DropoutModel(Func<GraphBuilder, Value> training)
    {
        var b = new GraphBuilder();
        var r = b.Op(OpTypes.Relu, [b.Input("x", 1, 4)], "r");
        var ratio = b.Constant("ratio", [], 0.5f);
        var d = b.Node(OpTypes.Dropout, [r, ratio, training(b)], ["y", "mask"]);
        return b.Outputs(d.Output(0)).Build(13);
    }

    /// <summary>
    /// r = Relu(x); out = If(c): then: t_out = Relu(Identity(r)); else: e_out = Identity(r) — the else branch's output is an
    /// outer value, which an Identity must carry.
    /// </summary>
    private static Model IfWithIdentities()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 4);
        var c = b.Input("c", new TensorType(TensorDataType.Bool, []));
        var r = b.Op(OpTypes.Relu, [x], "r");
        var thenBranch = new GraphBuilder(b.Graph.CreateSubgraph("then"));
        var inner = thenBranch.Op(OpTypes.Identity, [r], "t_id");
        thenBranch.Outputs(thenBranch.Op(OpTypes.Relu, [inner], "t_out"));
        var elseBranch = new GraphBuilder(b.Graph.CreateSubgraph("else"));
        elseBranch.Outputs(elseBranch.Op(OpTypes.Identity, [r], "e_out"));
        var ifOut = b.Op(OpTypes.If, [c], "out", Attribute.FromGraph("then_branch", thenBranch.Graph), Attribute.FromGraph("else_branch", elseBranch.Graph));
        return b.Outputs(ifOut).Build();
    }
}
