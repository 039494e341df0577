using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary>
/// The data-aware repairs of <see cref="PruneChannelsPass"/> and <see cref="PruneMagnitudePass"/>: refits from activations
/// streamed through ONNX Runtime, judged by the pruned model's outputs in ONNX Runtime on inputs the refit never saw.
/// </summary>
public class PruneRepairTests
{
    private static readonly int[] EvaluationSeeds = [7, 8, 9, 10];

    /// <summary>x[1,3,8,8] → conv1 (8 ch, 3×3) → Relu → conv2 (4 ch, 3×3) → y; channels 4..7 of conv1 are 0.3 × channels 0..3.</summary>
    private static Model ScaledCopies()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 3, 8, 8);
        var half = TinyModels.Random(4 * 27, 21);
        var w1 = half.Concat(half.Select(v => 0.3f * v)).ToArray();
        var bias = TinyModels.Random(4, 22);
        var b1 = bias.Concat(bias.Select(v => 0.3f * v)).ToArray();
        var pads = Attribute.Ints(AttrNames.Pads, 1, 1, 1, 1);
        var c1 = b.Op(OpTypes.Conv, [x, b.Constant("w1", [8, 3, 3, 3], w1), b.Constant("b1", [8], b1)], "c1", pads);
        var r = b.Op(OpTypes.Relu, [c1], "r");
        var y = b.Op(OpTypes.Conv, [r, b.Weight("w2", 23, 4, 8, 3, 3), b.Weight("b2", 24, 4)], "c2", pads);
        return b.Outputs(y).Build();
    }

    /// <summary>‖y − y_ref‖/‖y_ref‖ over every output and the evaluation seeds.</summary>
    private static double OutputError(Model reference, Model candidate)
    {
        double residual = 0, energy = 0;
        foreach (var seed in EvaluationSeeds)
        {
            var feed = PruneOrt.Feed(reference, seed);
            var want = PruneOrt.Run(ModelWriter.ToBytes(reference), feed);
            var got = PruneOrt.Run(ModelWriter.ToBytes(candidate), feed);
            foreach (var (name, e) in want)
            {
                Assert.That(got[name].Shape, Is.EqualTo(e.Shape), $"output '{name}' shape");
                residual += e.Data.Zip(got[name].Data, (a, c) => (double)(a - c) * (a - c)).Sum();
                energy += e.Data.Sum(a => (double)a * a);
            }
        }
        return Math.Sqrt(residual / energy);
    }

    private static (Model Model, T Pass) Prune<T>(Model model, T pass, IActivationProvider? activations) where T : IPass
    {
        var copy = ModelReader.Copy(model);
        pass.Run(copy, new PassContext { Activations = activations });
        PassChecks.AssertRoundTrips(copy);
        return (copy, pass);
    }

    [Test]
    public void Channels_RemovedChannelsAreScaledCopies_RepairRecoversTheOutput()
    {
        _ = PruneOrt.Library;
        var model = ScaledCopies();
        var options = new PruneChannelsOptions { Ratio = 0.5, RepairRidge = 1e-9 };

        var (plain, _) = Prune(model, new PruneChannelsPass(options), null);
        var (repaired, pass) = Prune(model, new PruneChannelsPass(options), new OrtActivations(samples: 8));

        var result = pass.LastResult!;
        Assert.That(result.Layers.Single().RemovedChannels, Is.EqualTo(new long[] { 4, 5, 6, 7 }), "the scaled copies have the lower norms");
        var layer = result.Repair.Layers.Single();
        Assert.That(layer.Node, Is.EqualTo("c2_node"));
        Assert.That(layer.Applied, Is.True, layer.SkipReason);
        Assert.That(layer.ErrorAfter, Is.LessThan(1e-4 * layer.ErrorBefore!.Value));
        var without = OutputError(model, plain);
        var with = OutputError(model, repaired);
        Assert.That(without, Is.GreaterThan(0.05));
        Assert.That(with, Is.LessThan(1e-4), "relu(0.3·z) = 0.3·relu(z): the kept channels carry the removed ones exactly");
    }

    [Test]
    public void Channels_RandomWeights_RepairLowersTheOutputErrorOnUnseenInputs()
    {
        _ = PruneOrt.Library;
        var model = PruneModels.ConvBnReluConv();
        var options = new PruneChannelsOptions { Ratio = 0.5 };

        var (plain, _) = Prune(model, new PruneChannelsPass(options), null);
        var (repaired, pass) = Prune(model, new PruneChannelsPass(options), new OrtActivations(samples: 16));

        var repair = pass.LastResult!.Repair;
        Assert.That(repair.On, Is.True);
        Assert.That(repair.Samples, Is.EqualTo(16));
        var consumer = repair.Layers.Single(l => l.Node == "y_node");
        Assert.That(consumer.Applied, Is.True, consumer.SkipReason);
        Assert.That(consumer.ErrorAfter, Is.LessThan(consumer.ErrorBefore!.Value));
        var without = OutputError(model, plain);
        var with = OutputError(model, repaired);
        Assert.That(with, Is.LessThan(0.8 * without), $"error with repair {with:G3}, without {without:G3}");
    }

    /// <summary>
    /// x[1,3,4,4] → conv1 (4 ch, 1×1) → conv2 (2 ch, 1×1) → y. Channel 0 has the smallest conv1 weights but conv2 reads it
    /// with weight 5; channel 1 has the largest conv1 weights but conv2 reads it with weight 0.001.
    /// </summary>
    private static Model ReadWeakly()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 3, 4, 4);
        var rows = new[] { 0.1f, 1f, 0.5f, 0.6f }.SelectMany((scale, c) => TinyModels.Random(3, 30 + c).Select(v => scale * (v >= 0 ? v + 0.5f : v - 0.5f))).ToArray();
        var c1 = b.Op(OpTypes.Conv, [x, b.Constant("w1", [4, 3, 1, 1], rows)], "c1");
        var y = b.Op(OpTypes.Conv, [c1, b.Constant("w2", [2, 4, 1, 1], 5f, 0.001f, 1f, 1f, -5f, 0.001f, 1f, -1f)], "c2");
        return b.Outputs(y).Build();
    }

    [Test]
    public void Channels_RankByActivations_RemovesTheChannelTheConsumersBarelyRead()
    {
        _ = PruneOrt.Library;
        var model = ReadWeakly();

        var (_, byNorm) = Prune(model, new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.25, Repair = false }), new OrtActivations(samples: 4));
        var (_, byData) = Prune(model, new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.25, Repair = false, RankByActivations = true }), new OrtActivations(samples: 4));

        Assert.That(byNorm.LastResult!.Layers.Single().RemovedChannels, Is.EqualTo(new long[] { 0 }), "the smallest weights");
        Assert.That(byData.LastResult!.Layers.Single().RemovedChannels, Is.EqualTo(new long[] { 1 }), "the smallest share of c2's output");
    }

    [Test]
    public void Channels_RepairOff_NeverAsksForActivations()
    {
        var activations = new OrtActivations(samples: 4);

        var (_, pass) = Prune(PruneModels.ConvBnReluConv(), new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.5, Repair = false }), activations);

        Assert.That(activations.Runs, Is.Zero);
        Assert.That(pass.LastResult!.Repair.On, Is.False);
        Assert.That(pass.LastResult.Layers, Is.Not.Empty);
    }

    [Test]
    public void Channels_NoActivations_RepairIsOff()
    {
        var (_, pass) = Prune(PruneModels.ConvBnReluConv(), new PruneChannelsPass(new PruneChannelsOptions { Ratio = 0.5 }), null);

        Assert.That(pass.LastResult!.Repair, Is.SameAs(RepairSummary.Off));
    }

    [Test]
    public void Channels_FlattenIntoGemm_RefitsTheGemmGivenEnoughRowsAndOnlyItsBiasWithFewer()
    {
        _ = PruneOrt.Library;
        var model = PruneModels.FlattenGemm();
        var options = new PruneChannelsOptions { Ratio = 0.25 };

        var (biasOnly, few) = Prune(model, new PruneChannelsPass(options), new OrtActivations(samples: 48));
        var (plain, _) = Prune(model, new PruneChannelsPass(options), null);
        var (repaired, enough) = Prune(model, new PruneChannelsPass(options), new OrtActivations(samples: 160));

        var shifted = few.LastResult!.Repair.Layers.Single(l => l.OpType == OpTypes.Gemm);
        Assert.That(shifted.Rows, Is.EqualTo(48), "one input vector per sample");
        Assert.That(shifted.Scope, Is.EqualTo(RefitScope.BiasOnly), shifted.SkipReason);
        Assert.That(shifted.Detail, Does.Contain("48 calibration rows for 55 unknowns"), "6 channels × 9 positions + bias = 55 unknowns need 55 rows");
        Assert.That(enough.LastResult!.Repair.Layers.Single(l => l.OpType == OpTypes.Gemm).Scope, Is.EqualTo(RefitScope.Full));
        var without = OutputError(model, plain);
        Assert.That(OutputError(model, biasOnly), Is.LessThan(0.6 * without), "removing channels after a Relu shifts the Gemm's mean");
        Assert.That(OutputError(model, repaired), Is.LessThan(0.6 * without));
    }

    /// <summary>x[16, 12] → MatMul (12→16) → Relu → MatMul (16→16) → Relu → MatMul (16→4) → y: no bias anywhere.</summary>
    private static Model MatMulChain()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 16, 12);
        var r1 = b.Op(OpTypes.Relu, [b.Op(OpTypes.MatMul, [x, b.Weight("w1", 71, 12, 16)], "h1")], "r1");
        var r2 = b.Op(OpTypes.Relu, [b.Op(OpTypes.MatMul, [r1, b.Weight("w2", 72, 16, 16)], "h2")], "r2");
        return b.Outputs(b.Op(OpTypes.MatMul, [r2, b.Weight("w3", 73, 16, 4)], "y")).Build();
    }

    [Test]
    public void Channels_MatMulChain_RepairedMatMulsGetABiasThatLaterGroupsPruneWithThem()
    {
        _ = PruneOrt.Library;
        var model = MatMulChain();
        var options = new PruneChannelsOptions { Ratio = 0.25 };

        var (plain, _) = Prune(model, new PruneChannelsPass(options), null);
        var (repaired, pass) = Prune(model, new PruneChannelsPass(options), new OrtActivations(samples: 8, low: 0f, high: 1f));

        var result = pass.LastResult!;
        Assert.That(result.Layers.Select(l => l.Node), Is.EqualTo(new[] { "h1_node", "h2_node" }));
        var h2 = result.Repair.Layers.First(l => l.Node == "h2_node");
        Assert.That(h2.Detail, Is.EqualTo("bias in a new Add h2_node/refit_bias_add"), "pruning h1's channels after a Relu shifts h2's mean");
        var add = repaired.Graph.Nodes.Single(n => n.Name == "h2_node/refit_bias_add");
        Assert.That(add.Input(1)!.Constant!.Dims, Is.EqualTo(new long[] { 12 }), "then h2's own channels were pruned, its new bias with them");
        Assert.That(repaired.Graph.Outputs.Single().Name, Is.EqualTo("y"));
        var without = OutputError(model, plain);
        var with = OutputError(model, repaired);
        Assert.That(with, Is.LessThan(0.9 * without), $"error with repair {with:G3}, without {without:G3}");
    }

    [Test]
    public void Magnitude_Repair_KeepsTheZerosExactlyAndLowersTheError()
    {
        _ = PruneOrt.Library;
        var model = PruneModels.Depthwise();
        var options = new PruneMagnitudeOptions { Sparsity = 0.6, KeepFirstAndLastDense = false, MinElements = 0 };

        var (plain, _) = Prune(model, new PruneMagnitudePass(options), null);
        var (repaired, pass) = Prune(model, new PruneMagnitudePass(options), new OrtActivations(samples: 16));

        var summary = pass.LastSummary!;
        Assert.That(summary.Repair.Layers.Select(l => l.Node), Is.EquivalentTo(new[] { "c1_node", "dw_node", "y_node" }));
        Assert.That(summary.Repair.Layers.Where(l => l.Applied).Select(l => l.Node), Does.Contain("dw_node"), "grouped convs are refit per group");
        foreach (var layer in summary.Layers)
        {
            var node = repaired.Graph.Nodes.Single(n => LayerNames.Of(n) == layer.Node);
            var before = plain.Graph.Nodes.Single(n => LayerNames.Of(n) == layer.Node).Input(ConvInput.W)!.Constant!.ToSingles();
            var after = node.Input(ConvInput.W)!.Constant!.ToSingles();
            Assert.That(after.Select(v => v == 0), Is.EqualTo(before.Select(v => v == 0)), $"{layer.Node}: the zeros are the same weights");
        }
        Assert.That(summary.Layers.Sum(l => l.ZerosAfter), Is.EqualTo(PassChecksZeros(plain)));
        var without = OutputError(model, plain);
        var with = OutputError(model, repaired);
        Assert.That(with, Is.LessThan(0.8 * without), $"error with repair {with:G3}, without {without:G3}");
    }

    private static long PassChecksZeros(Model model) =>
        model.Graph.Nodes.Where(n => n.OpType == OpTypes.Conv).Sum(n => n.Input(ConvInput.W)!.Constant!.ToSingles().LongCount(v => v == 0));

    [Test]
    public void Magnitude_Repair_ReportsErrorsInTheReportLines()
    {
        _ = PruneOrt.Library;
        var copy = PruneModels.Depthwise();
        var pass = new PruneMagnitudePass(new PruneMagnitudeOptions { Sparsity = 0.6, KeepFirstAndLastDense = false, MinElements = 0 });

        var report = pass.Run(copy, new PassContext { Activations = new OrtActivations(samples: 16) });

        Assert.That(report.Changes.Where(c => c.Target.StartsWith("dw", StringComparison.Ordinal)).Single().Message, Does.Match("repair: output error .* → "));
    }
}
