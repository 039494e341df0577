using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using static EdgeOpt.Passes.Tests.Pruning.PruneModels;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary>Structure of <see cref="PruneChannelsPass"/>: which tensors shrink, options, skip reasons, reports.</summary>
public class PruneChannelsPassTests
{
    private static PruneChannelsPass Pass(double ratio = 0.25) => new(new PruneChannelsOptions { Ratio = ratio });

    [Test]
    public void ConvBnReluConv_WeightsBiasAndBatchNormShrinkWithTheNextConvsInputs()
    {
        var model = ConvBnReluConv();
        var pass = Pass();

        var report = PassChecks.RunAndCheck(pass, model);

        Assert.That(InputOf(model, "c1_node").Dims, Is.EqualTo(new long[] { 6, 3, 3, 3 }));
        Assert.That(InputOf(model, "c1_node", 2).Dims, Is.EqualTo(new long[] { 6 }));
        for (var i = 1; i <= 4; i++) Assert.That(InputOf(model, "bn_node", i).Dims, Is.EqualTo(new long[] { 6 }), $"BatchNormalization input {i}");
        Assert.That(InputOf(model, "y_node").Dims, Is.EqualTo(new long[] { 4, 6, 3, 3 }));
        Assert.That(report.Changes.Select(c => c.Target), Does.Contain("c1_node (Conv)"));
        Assert.That(report.Changes.Single(c => c.Target == "c1_node (Conv)").Message, Does.Contain("output channels 8 → 6").And.Contain("MACs 13,824 → 10,368"));
        Assert.That(report.Skips.Single(s => s.Target == "y_node (Conv)").Message, Does.Contain("graph output"));
        Assert.That(pass.LastResult!.MacsAfter!.Value, Is.LessThan(pass.LastResult.MacsBefore!.Value));
    }

    [Test]
    public void InitializerNames_StayTheSame_WhenOnlyThisLayerReadsThem()
    {
        var model = ConvBnReluConv();

        Pass().Run(model, PassContext.Default);

        Assert.That(model.Graph.Nodes.Single(n => n.Name == "c1_node").Input(1)!.Name, Is.EqualTo("w1"));
        Assert.That(model.Graph.Nodes.Single(n => n.Name == "bn_node").Input(1)!.Name, Is.EqualTo("bn_scale"));
    }

    [Test]
    public void SharedParameter_GetsANewInitializerNamedAfterTheNode()
    {
        var model = ConvBnReluConv();
        var bn = model.Graph.Nodes.Single(n => n.Name == "bn_node");
        bn.SetInput(3, model.Graph.FindValue("bn_bias"));

        Pass().Run(model, PassContext.Default);

        Assert.That(bn.Input(2)!.Name, Is.EqualTo("bn_node/pruned_bias"), "a copy for the first reader");
        Assert.That(bn.Input(3)!.Name, Is.EqualTo("bn_bias"), "the last reader then owns the original and changes it in place");
        Assert.That(bn.Input(2)!.Constant!.Dims, Is.EqualTo(new long[] { 6 }));
        Assert.That(bn.Input(3)!.Constant!.Dims, Is.EqualTo(new long[] { 6 }));
    }

    [Test]
    public void Depthwise_ShrinksWithItsProducerAndPassesTheRemovalOn()
    {
        var model = Depthwise();

        PassChecks.RunAndCheck(Pass(), model);

        var dw = model.Graph.Nodes.Single(n => n.Name == "dw_node");
        Assert.That(dw.Input(1)!.Constant!.Dims, Is.EqualTo(new long[] { 6, 1, 3, 3 }));
        Assert.That(dw.Input(2)!.Constant!.Dims, Is.EqualTo(new long[] { 6 }));
        Assert.That(dw.GetInt(AttrNames.Group, 0), Is.EqualTo(6));
        Assert.That(InputOf(model, "y_node").Dims, Is.EqualTo(new long[] { 4, 6, 1, 1 }));
    }

    [Test]
    public void ResidualAdd_PrunesBothBranchesAsOneGroup()
    {
        var model = Residual();
        var pass = Pass();

        var report = PassChecks.RunAndCheck(pass, model);

        Assert.That(InputOf(model, "ca_node").Dims, Is.EqualTo(new long[] { 6, 3, 3, 3 }));
        Assert.That(InputOf(model, "cb_node").Dims, Is.EqualTo(new long[] { 6, 6, 3, 3 }), "cb loses output and input channels");
        Assert.That(InputOf(model, "y_node").Dims, Is.EqualTo(new long[] { 4, 6, 1, 1 }));
        var layers = pass.LastResult!.Layers;
        Assert.That(layers.Select(l => l.Node), Is.EqualTo(new[] { "ca_node", "cb_node" }));
        Assert.That(layers[0].RemovedChannels, Is.EqualTo(layers[1].RemovedChannels));
        Assert.That(report.Changes.Single(c => c.Target == "ca_node (Conv)").Message, Does.Contain("coupled with cb_node"));
    }

    [Test]
    public void ResidualAdd_CoupledGroupsOff_LeavesTheGroupAlone()
    {
        var model = Residual();
        var pass = new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.25, PruneCoupledGroups = false });

        var report = pass.Run(model, PassContext.Default);

        Assert.That(report.Skips.Single(s => s.Target == "ca_node (Conv)").Message, Does.Contain("coupled with 'cb_node'").And.Contain("PruneCoupledGroups"));
        Assert.That(InputOf(model, "ca_node").Dims[0], Is.EqualTo(8));
    }

    [Test]
    public void ExcludedMember_LeavesItsWholeGroupAlone()
    {
        var model = Residual();
        var pass = new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.25, ExcludeNodes = ["cb_node"] });

        var report = pass.Run(model, PassContext.Default);

        Assert.That(report.Skips.Single(s => s.Target == "ca_node (Conv)").Message, Does.Contain("cb_node").And.Contain("ExcludeNodes"));
        Assert.That(report.Changes, Is.Empty);
    }

    [Test]
    public void Concat_EachInputsChannelsLeaveAtTheirOffset()
    {
        var model = Concat();
        var pass = new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.25, LayerRatios = new Dictionary<string, double> { ["cb_node"] = 0.34 } });

        PassChecks.RunAndCheck(pass, model);

        Assert.That(InputOf(model, "ca_node").Dims[0], Is.EqualTo(3));
        Assert.That(InputOf(model, "cb_node").Dims[0], Is.EqualTo(4));
        Assert.That(InputOf(model, "y_node").Dims, Is.EqualTo(new long[] { 5, 7, 1, 1 }));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void FlattenIntoGemm_RemovesTheChannelMajorFeatureBlocks(bool reshape)
    {
        var model = FlattenGemm(reshape);

        PassChecks.RunAndCheck(Pass(), model);

        Assert.That(InputOf(model, "c_node").Dims[0], Is.EqualTo(6));
        Assert.That(InputOf(model, "y_node").Dims, Is.EqualTo(new long[] { 10, 54 }), "6 channels × 3×3 pooled pixels");
        if (reshape) Assert.That(InputOf(model, "f_node").ToInt64s(), Is.EqualTo(new long[] { 1, 54 }));
    }

    [Test]
    public void MatMul_OutputFeaturesGoWithTheBiasAndTheNextMatMulsRows()
    {
        var model = MatMulMlp();

        PassChecks.RunAndCheck(Pass(), model);

        Assert.That(InputOf(model, "h_node").Dims, Is.EqualTo(new long[] { 16, 9 }));
        Assert.That(InputOf(model, "hb_node").Dims, Is.EqualTo(new long[] { 9 }));
        Assert.That(InputOf(model, "y_node").Dims, Is.EqualTo(new long[] { 9, 5 }));
    }

    [Test]
    public void DeclaredValueTypes_LoseTheRemovedChannels()
    {
        var model = ConvBnReluConv();
        ShapeInference.Infer(model, new ShapeInferenceOptions { Annotate = true });

        Pass().Run(model, PassContext.Default);

        Assert.That(model.Graph.FindValue("c1")!.TensorType!.StaticShape, Is.EqualTo(new long[] { 1, 6, 8, 8 }));
        Assert.That(model.Graph.FindValue("r")!.TensorType!.StaticShape, Is.EqualTo(new long[] { 1, 6, 8, 8 }));
        var inferred = ShapeInference.Infer(model);
        foreach (var v in model.Graph.ValueInfos) Assert.That(inferred.StaticShapeOf(v), Is.EqualTo(v.TensorType!.StaticShape), v.Name);
    }

    [TestCase(0.5, 1, 1, 4)]
    [TestCase(0.5, 1, 3, 6)]
    [TestCase(0.9, 3, 1, 3)]
    [TestCase(0.9, 1, 1, 1)]
    public void ChannelsKept_HonourMinChannelsAndChannelMultiple(double ratio, int min, int multiple, long expected)
    {
        var model = ConvBnReluConv();
        var pass = new PruneChannelsPass(new PruneChannelsOptions { Ratio = ratio, MinChannels = min, ChannelMultiple = multiple });

        pass.Run(model, PassContext.Default);

        Assert.That(InputOf(model, "c1_node").Dims[0], Is.EqualTo(expected));
    }

    [Test]
    public void LayerRatios_TargetASingleLayer()
    {
        var model = Residual();
        var pass = new PruneChannelsPass(new PruneChannelsOptions
        {
            Ratio = 0,
            IncludeNodes = ["ca_node"],
            LayerRatios = new Dictionary<string, double> { ["cb_node"] = 0.5 },
        });

        pass.Run(model, PassContext.Default);

        Assert.That(InputOf(model, "ca_node").Dims[0], Is.EqualTo(4), "the group takes the ratio of its listed member");
    }

    [Test]
    public void IncludeOpTypes_OnlyStartsGroupsAtThoseOps()
    {
        var model = MatMulMlp();

        var report = new PruneChannelsPass(new PruneChannelsOptions { IncludeOpTypes = [OpTypes.Conv] }).Run(model, PassContext.Default);

        Assert.That(report.Changes, Is.Empty);
        Assert.That(report.Skips.Single(s => s.Target == "h_node (MatMul)").Message, Does.Contain("IncludeOpTypes"));
    }

    [Test]
    public void Scorer_ReplacesTheNormRanking()
    {
        var model = ConvBnReluConv();
        var scorer = new FixedScorer(c => c == 7 || c == 0 ? -1 : c);
        var pass = new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.25, Scorer = scorer });

        pass.Run(model, PassContext.Default);

        Assert.That(pass.LastResult!.Layers.Single().RemovedChannels, Is.EqualTo(new long[] { 0, 7 }));
        var group = scorer.Seen.Single();
        Assert.That(group.Members, Is.EqualTo(new[] { "c1_node" }));
        Assert.That(group.Consumers.Select(c => (c.Node, c.InputIndex, c.Input)), Is.EqualTo(new[] { ("y_node", 0, "r") }));
        Assert.That(group.Carriers, Is.EqualTo(new[] { "bn_node", "r_node" }));
        Assert.That(group.NormScores, Has.Count.EqualTo(8));
    }

    [Test]
    public void Scorer_WithTheWrongCount_SkipsTheGroup()
    {
        var model = ConvBnReluConv();

        var report = new PruneChannelsPass(new PruneChannelsOptions { Scorer = new FixedScorer(_ => 1, count: 3) }).Run(model, PassContext.Default);

        Assert.That(report.Skips.Single(s => s.Target == "c1_node (Conv)").Message, Does.Contain("3 scores").And.Contain("8 channels"));
    }

    [Test]
    public void Analyze_ListsGroupsWithoutChangingTheModel()
    {
        var model = Residual();
        var before = ModelWriter.ToBytes(model);

        var groups = PruneChannelsPass.Analyze(model, new PruneChannelsOptions());

        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before));
        var ca = groups.Single(g => g.Node == "ca_node");
        Assert.That(ca.Group!.Members, Is.EqualTo(new[] { "ca_node", "cb_node" }));
        Assert.That(ca.Group.Consumers.Select(c => c.Node), Is.EquivalentTo(new[] { "cb_node", "y_node" }));
        Assert.That(groups.Single(g => g.Node == "y_node").SkipReason, Does.Contain("graph output"));
    }

    [Test]
    public void Run_IsDeterministic() => PassChecks.AssertDeterministic(Pass(0.3), Residual);

    [Test]
    public void GraphInputsAndOutputs_KeepTheirShapes()
    {
        var model = Concat();
        var inputs = model.Graph.Inputs.Select(i => i.Type?.ToString()).ToList();

        Pass(0.5).Run(model, PassContext.Default);

        Assert.That(model.Graph.Inputs.Select(i => i.Type?.ToString()), Is.EqualTo(inputs));
        Assert.That(ShapeInference.Infer(model).StaticShapeOf(model.Graph.Outputs[0]), Is.EqualTo(new long[] { 1, 5, 8, 8 }));
    }

    [TestCase(-0.1)]
    [TestCase(1.0)]
    public void Options_BadRatio_IsRejected(double ratio) =>
        Assert.Throws<ArgumentException>(() => _ = new PruneChannelsPass(new PruneChannelsOptions { Ratio = ratio }));

    [Test]
    public void Options_Problems_AreListedTogether()
    {
        var options = new PruneChannelsOptions
        {
            MinChannels = 0,
            ChannelMultiple = 0,
            LayerRatios = new Dictionary<string, double> { ["a"] = 2 },
            IncludeNodes = ["a"],
            ExcludeNodes = ["a"],
        };

        Assert.That(options.Validate().ToList(), Has.Count.EqualTo(4));
    }

    /// <summary>Scores channel c as f(c), and records the groups it was asked about.</summary>
    private sealed class FixedScorer(Func<int, double> score, int? count = null) : IChannelScorer
    {
        public List<ChannelGroup> Seen { get; } = [];

        public IReadOnlyList<double>? Score(Model model, ChannelGroup group)
        {
            Seen.Add(group);
            return [.. Enumerable.Range(0, count ?? (int)group.Channels).Select(score)];
        }
    }
}
