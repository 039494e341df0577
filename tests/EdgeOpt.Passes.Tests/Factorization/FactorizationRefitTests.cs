using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Passes.Tests.Pruning;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Factorization;

/// <summary>
/// The data-aware refit of the last factor (<see cref="FactorizeOptions.Refit"/>): activations streamed through ONNX Runtime,
/// judged by the factorized model's outputs in ONNX Runtime on seeds the refit never saw.
/// </summary>
public class FactorizationRefitTests
{
    private static readonly int[] EvaluationSeeds = [7, 8, 9, 10];

    /// <summary>
    /// x[32, 8] in [0, 1) → MatMul(A [8, 48]) → Gemm(W [48, 40] random, C [40]) → y: the Gemm's 48 inputs are correlated (they span
    /// 8 dimensions) and have a non-zero mean, so a data-free rank-10 truncation of the flat-spectrum W loses much that the data do not need.
    /// </summary>
    private static Model CorrelatedGemm()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 32, 8);
        var h = b.Op(OpTypes.MatMul, [x, b.Weight("a", 31, 8, 48)], "h");
        var y = b.Op(OpTypes.Gemm, [h, b.Weight("w", 32, 48, 40), b.Weight("c", 33, 40)], "y");
        return b.Outputs(y).Build();
    }

    /// <summary>x[1, 4, 10, 10] → Conv 1×1 (4 → 16) → Conv 3×3 (16 → 16, pads 1, bias) → y: the 3×3 conv's input channels span 4 dimensions.</summary>
    private static Model CorrelatedConv()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 4, 10, 10);
        var e = b.Op(OpTypes.Conv, [x, b.Weight("we", 41, 16, 4, 1, 1)], "e");
        var y = b.Op(OpTypes.Conv, [e, b.Weight("wc", 42, 16, 16, 3, 3), b.Weight("bc", 43, 16)], "c", Attribute.Ints(AttrNames.Pads, 1, 1, 1, 1));
        return b.Outputs(y).Build();
    }

    /// <summary>‖y − y_ref‖/‖y_ref‖ over every output and the evaluation seeds, inputs in [0, 1).</summary>
    private static double OutputError(Model reference, Model candidate)
    {
        double residual = 0, energy = 0;
        foreach (var seed in EvaluationSeeds)
        {
            var feed = PruneOrt.Feed(reference, seed, 0f, 1f);
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

    private static (Model Model, FactorizationResult Result) Factorize<TOptions>(Model model, FactorizationPass<TOptions> pass, IActivationProvider? activations)
        where TOptions : FactorizeOptions
    {
        var copy = ModelReader.Copy(model);
        pass.Run(copy, new PassContext { Activations = activations });
        PassChecks.AssertRoundTrips(copy);
        return (copy, pass.LastResult!);
    }

    [Test]
    public void Gemm_CorrelatedInputs_RefitRecoversWhatTruncationLost()
    {
        _ = PruneOrt.Library;
        var model = CorrelatedGemm();
        var options = new FactorizeSvdOptions { IncludeOpTypes = [OpTypes.Gemm], RankRatio = 0.25, RankMultiple = 1, RefitRidge = 1e-4 };

        var (plain, plainResult) = Factorize(model, new FactorizeSvdPass(options), null);
        var (refit, result) = Factorize(model, new FactorizeSvdPass(options), new OrtActivations(samples: 8, low: 0f, high: 1f));

        Assert.That(plainResult.Refit.On, Is.False);
        Assert.That(plainResult.Layers.Single().Refit, Is.Null);
        var layer = result.Layers.Single();
        Assert.That(layer.Ranks, Is.EqualTo(new[] { 10 }));
        Assert.That(result.Refit.On, Is.True);
        Assert.That(result.Refit.Samples, Is.EqualTo(8));
        var repair = layer.Refit!;
        Assert.That(repair.Node, Is.EqualTo(layer.Nodes[^1]), "the last factor is refit");
        Assert.That(repair.Applied, Is.True, repair.SkipReason);
        Assert.That(repair.ErrorAfter, Is.LessThan(0.1 * repair.ErrorBefore!.Value));
        var without = OutputError(model, plain);
        var with = OutputError(model, refit);
        Assert.That(without, Is.GreaterThan(0.2), "rank 10 of a random 48×40 weight loses much");
        Assert.That(with, Is.LessThan(0.1 * without), "the inputs span 8 dimensions: rank 10 suffices on the data");
        Assert.That(with, Is.LessThan(0.02));
    }

    [Test]
    public void SpatialSvd_CorrelatedChannels_RefitLowersTheHeldOutError()
    {
        _ = PruneOrt.Library;
        var model = CorrelatedConv();
        var options = new FactorizeConvOptions { Method = ConvFactorization.SpatialSvd, RankRatio = 0.25, RankMultiple = 1, RefitRidge = 1e-3 };

        var (plain, _) = Factorize(model, new FactorizeConvPass(options), null);
        var (refit, result) = Factorize(model, new FactorizeConvPass(options), new OrtActivations(samples: 8, low: 0f, high: 1f));

        var layer = result.Layers.Single();
        Assert.That(layer.Method, Is.EqualTo("SpatialSvd"));
        var repair = layer.Refit!;
        Assert.That(repair.OpType, Is.EqualTo(OpTypes.Conv));
        Assert.That(repair.Applied, Is.True, repair.SkipReason);
        Assert.That(repair.ErrorAfter, Is.LessThan(repair.ErrorBefore!.Value));
        var without = OutputError(model, plain);
        var with = OutputError(model, refit);
        Assert.That(with, Is.LessThan(0.5 * without), $"held-out error {with:G3} with refit vs {without:G3} without");
    }

    [Test]
    public void RefitOff_WithActivations_WritesTheDataFreeFactors()
    {
        _ = PruneOrt.Library;
        var model = CorrelatedGemm();
        var options = new FactorizeSvdOptions { IncludeOpTypes = [OpTypes.Gemm], RankRatio = 0.25, RankMultiple = 1, Refit = false };
        var activations = new OrtActivations(samples: 2);

        var (plain, _) = Factorize(model, new FactorizeSvdPass(options), null);
        var (off, result) = Factorize(model, new FactorizeSvdPass(options), activations);

        Assert.That(result.Refit.On, Is.False);
        Assert.That(activations.Runs, Is.Zero, "no model runs when refit is off");
        Assert.That(ModelWriter.ToBytes(off), Is.EqualTo(ModelWriter.ToBytes(plain)));
    }

    [Test]
    public void Options_BadRefitSettings_AreRejected()
    {
        var problems = new FactorizeSvdOptions { RefitPositions = 0, RefitRidge = double.NaN }.Validate().ToList();
        Assert.That(problems, Has.Some.Contains("RefitPositions"));
        Assert.That(problems, Has.Some.Contains("RefitRidge"));
    }
}
