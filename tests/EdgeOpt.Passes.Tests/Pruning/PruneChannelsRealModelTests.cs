using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Validation;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.TestKit;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary><see cref="PruneChannelsPass"/> on real models: valid, runs in ONNX Runtime, fewer MACs; zeroed channels prune exactly.</summary>
public class PruneChannelsRealModelTests
{
    /// <summary>A real model with initializer inputs dropped (IR 3 models list weights as inputs, which are no constants).</summary>
    private static Model Load(string path)
    {
        var model = ModelReader.Read(path);
        new RemoveInitializerInputsPass().Run(model, PassContext.Default);
        return model;
    }

    private static Model Mnist() => Load(TestPaths.RequireShared("models", "mnist-8.onnx"));

    private static Model Ultraface() => Load(TestPaths.RequireShared("models", "ultraface_rfb320.onnx"));

    /// <summary>Prunes at <paramref name="ratio"/>, checks validity, unchanged interface, fewer MACs, and that ONNX Runtime runs it with the original's output shapes.</summary>
    private static ChannelPruneResult PruneAndRun(Model model, double ratio, IReadOnlyDictionary<string, long[]>? shapes = null)
    {
        var original = ModelReader.Copy(model);
        var pass = new PruneChannelsPass(new PruneChannelsOptions { Ratio = ratio, InputShapes = shapes ?? new Dictionary<string, long[]>() });
        var report = new PassManager([pass]).Run(model).Single();
        TestContext.Out.WriteLine(report.Changes.Last());
        var result = pass.LastResult!;
        Assert.That(result.Layers, Is.Not.Empty);
        Assert.That(result.MacsAfter!.Value, Is.LessThan(result.MacsBefore!.Value));
        Assert.That(result.ParametersAfter, Is.LessThan(result.ParametersBefore));
        Assert.That(ModelValidator.Validate(model), Is.Empty);
        var expected = PruneOrt.Run(original, shapes: shapes);
        var actual = PruneOrt.Run(model, shapes: shapes);
        Assert.That(actual.Keys, Is.EqualTo(expected.Keys));
        foreach (var (name, e) in expected)
        {
            Assert.That(actual[name].Shape, Is.EqualTo(e.Shape), name);
            Assert.That(actual[name].Data, Has.All.Matches<float>(float.IsFinite), name);
        }
        return result;
    }

    /// <summary>
    /// Zeroes a quarter of the channels of every prunable group (weights and bias of each member, bias of depthwise convs the
    /// channels pass through), so the removed channels are zero wherever they are read.
    /// </summary>
    private static void ZeroQuarterOfEveryGroup(Model model)
    {
        foreach (var group in PruneChannelsPass.Analyze(model, new PruneChannelsOptions()).Select(c => c.Group).OfType<ChannelGroup>())
        {
            var channels = Enumerable.Range(0, (int)Math.Floor(group.Channels * 0.25)).Select(k => 4L * k).ToArray();
            foreach (var name in group.Members) ZeroOutputs(Node(model, name), channels, weight: true);
            foreach (var name in group.Carriers.Where(c => Node(model, c) is { OpType: OpTypes.Conv } n && n.GetInt(AttrNames.Group, 1) > 1))
            {
                ZeroOutputs(Node(model, name), channels, weight: false);
            }
        }
    }

    private static Node Node(Model model, string layer) => model.Graph.Nodes.Single(n => LayerNames.Of(n) == layer);

    private static void ZeroOutputs(Node conv, long[] channels, bool weight)
    {
        Assert.That(conv.OpType, Is.EqualTo(OpTypes.Conv), "the real-model groups here are convs");
        if (weight) PruneModels.Zero(conv.Graph, conv.Input(ConvInput.W)!.Name, 0, channels);
        if (conv.Input(ConvInput.B) is { } b) PruneModels.Zero(conv.Graph, b.Name, 0, channels);
    }

    [Test]
    public void Mnist_Prune30_RunsWithFewerMacs() => PruneAndRun(Mnist(), 0.3);

    [Test]
    public void Mnist_ZeroChannels_SameOutputs()
    {
        var model = Mnist();
        PruneModels.Zero(model.Graph, "Parameter5", 0, 0, 4);
        PruneModels.Zero(model.Graph, "Parameter6", 0, 0, 4);
        var pruned = ModelReader.Copy(model);

        var pass = new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.25 });
        pass.Run(pruned, PassContext.Default);

        Assert.That(pass.LastResult!.Layers.Single().RemovedChannels, Is.EqualTo(new long[] { 0, 4 }));
        PruneOrt.AssertSameOutputs(model, pruned);
    }

    [Test]
    public void Mnist_InitializerInputs_AreSkippedWithTheFix()
    {
        var model = ModelReader.Read(TestPaths.RequireShared("models", "mnist-8.onnx"));

        var report = new PruneChannelsPass().Run(model, PassContext.Default);

        Assert.That(report.Changes, Is.Empty);
        Assert.That(report.Skips, Is.Not.Empty);
        Assert.That(report.Skips.Select(s => s.Message), Has.All.Contain("remove-initializer-inputs"));
    }

    [Test]
    public void Ultraface_IsDeterministic() => PassChecks.AssertDeterministic(new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.4 }), Ultraface);

    [TestCase(0.3)]
    [TestCase(0.5)]
    public void Ultraface_Prune_RunsWithFewerMacs(double ratio)
    {
        var result = PruneAndRun(Ultraface(), ratio);

        TestContext.Out.WriteLine($"ultraface at {ratio}: MACs {result.MacsBefore:N0} → {result.MacsAfter:N0}, parameters {result.ParametersBefore:N0} → {result.ParametersAfter:N0}");
    }

    [Test]
    public void Ultraface_ZeroChannels_SameOutputs()
    {
        var model = Ultraface();
        ZeroQuarterOfEveryGroup(model);
        var pruned = ModelReader.Copy(model);

        var pass = new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.25 });
        pass.Run(pruned, PassContext.Default);

        Assert.That(pass.LastResult!.Layers, Has.Count.GreaterThan(10));
        Assert.That(pass.LastResult.MacsAfter!.Value, Is.LessThan(pass.LastResult.MacsBefore!.Value * 0.8));
        PruneOrt.AssertSameOutputs(model, pruned);
    }

    [TestCase(0.3)]
    [TestCase(0.5)]
    public void PpocrDet_Prune_RunsWithFewerMacs(double ratio)
    {
        var model = Load(TestPaths.RequireArtifact("models", "ppocrv4_det.onnx"));
        var shapes = new Dictionary<string, long[]> { [model.Graph.Inputs[0].Name] = [1, 3, 320, 320] };

        var result = PruneAndRun(model, ratio, shapes);

        TestContext.Out.WriteLine($"ppocrv4_det at {ratio}: MACs {result.MacsBefore:N0} → {result.MacsAfter:N0}, parameters {result.ParametersBefore:N0} → {result.ParametersAfter:N0}");
    }

    [Test]
    public void PpocrCls_Prune30_RunsWithFewerMacs()
    {
        var model = Load(TestPaths.RequireArtifact("models", "ppocr_mobile_v2_cls.onnx"));
        var shapes = new Dictionary<string, long[]> { [model.Graph.Inputs[0].Name] = [1, 3, 48, 192] };

        PruneAndRun(model, 0.3, shapes);
    }
}
