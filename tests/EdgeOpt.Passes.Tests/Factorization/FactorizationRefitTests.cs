using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Validation;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Passes.Pruning;
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

    /// <summary>
    /// x[1, 8] → MatMul(A [8, 48]) → Gemm(W [48, 40], C [40]) → y: one row per sample, so a rank-10 factorization's second Gemm
    /// (10 weights and a bias per output) cannot be refit from 8 samples. With x in [0, 1) the Gemm's inputs have a non-zero
    /// mean, which the truncation shifts; with x in [-1, 1) they have none.
    /// </summary>
    private static Model BatchOneGemm()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 8);
        var h = b.Op(OpTypes.MatMul, [x, b.Weight("a", 51, 8, 48)], "h");
        var y = b.Op(OpTypes.Gemm, [h, b.Weight("w", 52, 48, 40), b.Weight("c", 53, 40)], "y");
        return b.Outputs(y).Build();
    }

    private static readonly FactorizeSvdOptions BatchOneOptions = new() { IncludeOpTypes = [OpTypes.Gemm], RankRatio = 0.25, RankMultiple = 1 };

    [Test]
    public void Gemm_TooFewRowsAndAMeanShift_BiasOnlyCorrectionLowersTheHeldOutError()
    {
        _ = PruneOrt.Library;
        var model = BatchOneGemm();

        var (plain, _) = Factorize(model, new FactorizeSvdPass(BatchOneOptions), null);
        var (refit, result) = Factorize(model, new FactorizeSvdPass(BatchOneOptions), new OrtActivations(samples: 8, low: 0f, high: 1f));

        var layer = result.Layers.Single();
        var repair = layer.Refit!;
        Assert.That(repair.Rows, Is.EqualTo(8));
        Assert.That(repair.Scope, Is.EqualTo(RefitScope.BiasOnly), repair.SkipReason);
        Assert.That(repair.Detail, Does.Contain("8 calibration rows for 11 unknowns"));
        Assert.That(repair.ErrorAfter, Is.LessThan(0.5 * repair.ErrorBefore!.Value));
        Assert.That(Tensors(refit, "y_node/svd_q"), Is.EqualTo(Tensors(plain, "y_node/svd_q")), "the weights stay: only the bias moves");
        Assert.That(Tensors(refit, "c"), Is.Not.EqualTo(Tensors(plain, "c")));
        var without = OutputError(model, plain);
        var with = OutputError(model, refit);
        Assert.That(with, Is.LessThan(0.6 * without), $"held-out error {with:G3} with the mean-shift correction vs {without:G3} without");
    }

    [Test]
    public void Gemm_TooFewRowsWithoutAMeanShift_BiasOnlyCorrectionIsNotApplied()
    {
        _ = PruneOrt.Library;
        var model = BatchOneGemm();

        var (plain, _) = Factorize(model, new FactorizeSvdPass(BatchOneOptions), null);
        var (refit, result) = Factorize(model, new FactorizeSvdPass(BatchOneOptions), new OrtActivations(samples: 8, low: -1f, high: 1f));

        var repair = result.Layers.Single().Refit!;
        Assert.That(repair.Applied, Is.False, "zero-mean inputs: the mean residual of 8 samples is noise");
        Assert.That(repair.SkipReason, Does.Contain("does not lower the held-out error"));
        Assert.That(ModelWriter.ToBytes(refit), Is.EqualTo(ModelWriter.ToBytes(plain)), "the data-free factors are written as they are");
    }

    /// <summary>
    /// x[rows, 48] in [0, 1) → h = x·s + o → MatMul(W [48, 40]) → y, or → m → Add(c [40]) → y. Features 0–39 of h are zero-mean
    /// (s = 2, o = −1) and W reads them through a rank-10 block, kept exactly by a rank-10 SVD; features 40–47 are nearly
    /// constant (s = 0.1, o = 1) and W reads them with small weights, which the truncation drops: the outputs' mean shifts, and
    /// the kept factors' inputs (nearly zero-mean) cannot put it back through the weights.
    /// </summary>
    private static Model ShiftedMatMul(int rows, bool withAdd)
    {
        var b = new GraphBuilder();
        var x = b.Input("x", rows, 48);
        var scale = b.Constant("s", [48], [.. Enumerable.Range(0, 48).Select(i => i < 40 ? 2f : 0.1f)]);
        var offset = b.Constant("o", [48], [.. Enumerable.Range(0, 48).Select(i => i < 40 ? -1f : 1f)]);
        var h = b.Op(OpTypes.Add, [b.Op(OpTypes.Mul, [x, scale], "xs"), offset], "h");
        float[] w = [.. FactorModels.LowRankMatrix(40, 40, 10, seed: 64), .. TinyModels.Random(8 * 40, 67).Select(v => 0.3f * v)];
        var m = b.Op(OpTypes.MatMul, [h, b.Constant("w", [48, 40], w)], withAdd ? "m" : "y");
        return b.Outputs(withAdd ? b.Op(OpTypes.Add, [m, b.Weight("c", 68, 40)], "y") : m).Build();
    }

    private static readonly FactorizeSvdOptions MatMulOptions = new() { IncludeNodes = ["y_node", "m_node"], RankRatio = 0.25, RankMultiple = 1 };

    [TestCase(32, RefitScope.Full)]
    [TestCase(1, RefitScope.BiasOnly)]
    public void MatMul_MeanShift_RefitAddsItsBiasInANewAddAfterTheMatMul(int rows, RefitScope scope)
    {
        _ = PruneOrt.Library;
        var model = ShiftedMatMul(rows, withAdd: false);

        var (plain, _) = Factorize(model, new FactorizeSvdPass(MatMulOptions), null);
        var (refit, result) = Factorize(model, new FactorizeSvdPass(MatMulOptions), new OrtActivations(samples: 8, low: 0f, high: 1f));

        var layer = result.Layers.Single();
        var repair = layer.Refit!;
        Assert.That(repair.Scope, Is.EqualTo(scope), repair.SkipReason);
        Assert.That(repair.Detail, Does.Contain("bias in a new Add"));
        AssertValid(refit, model);
        var add = refit.Graph.Nodes.Where(n => n.OpType == OpTypes.Add).Except(plain.Graph.Nodes.Where(n => n.OpType == OpTypes.Add), NodeNames.Instance).Single();
        Assert.That(add.Input(0)!.Producer!.Name, Is.EqualTo(layer.Nodes[^1]), "the Add reads the last factor");
        Assert.That(refit.Graph.Outputs.Single().Producer, Is.SameAs(add), "and carries the graph output 'y'");
        Assert.That(add.Input(1)!.Constant!.Dims, Is.EqualTo(new long[] { 40 }));
        var without = OutputError(model, plain);
        var with = OutputError(model, refit);
        Assert.That(with, Is.LessThan(0.5 * without), $"held-out error {with:G3} with refit vs {without:G3} without");
    }

    [Test]
    public void MatMul_FollowedByAnAddOfAConstant_BiasFoldsIntoIt()
    {
        _ = PruneOrt.Library;
        var model = ShiftedMatMul(32, withAdd: true);

        var (plain, _) = Factorize(model, new FactorizeSvdPass(MatMulOptions), null);
        var (refit, result) = Factorize(model, new FactorizeSvdPass(MatMulOptions), new OrtActivations(samples: 8, low: 0f, high: 1f));

        var repair = result.Layers.Single().Refit!;
        Assert.That(repair.Scope, Is.EqualTo(RefitScope.Full), repair.SkipReason);
        Assert.That(repair.Detail, Is.EqualTo("bias folded into y_node (Add)"));
        AssertValid(refit, model);
        Assert.That(refit.Graph.Nodes.Count(n => n.OpType == OpTypes.Add), Is.EqualTo(2), "no new node: h's Add and y's");
        Assert.That(Tensors(refit, "c"), Is.Not.EqualTo(Tensors(plain, "c")));
        Assert.That(OutputError(model, refit), Is.LessThan(0.5 * OutputError(model, plain)));
    }

    /// <summary>Compares nodes by name (nodes of two models).</summary>
    private sealed class NodeNames : IEqualityComparer<Node>
    {
        public static NodeNames Instance { get; } = new();
        public bool Equals(Node? a, Node? b) => a?.Name == b?.Name;
        public int GetHashCode(Node n) => n.Name.GetHashCode(StringComparison.Ordinal);
    }

    /// <summary>The values of the initializer <paramref name="name"/>.</summary>
    private static float[] Tensors(Model model, string name) => model.Graph.Initializers.Single(v => v.Name == name).Initializer!.ToSingles();

    /// <summary>Valid, acyclic, with the original's input and output names.</summary>
    private static void AssertValid(Model model, Model original)
    {
        Assert.That(model.Graph.SortTopologically(), Is.Empty, "the rewritten graph has a cycle");
        Assert.DoesNotThrow(() => ModelValidator.ThrowIfInvalid(model, FactorizeSvdPass.PassId));
        Assert.That(model.Graph.Inputs.Select(v => v.Name), Is.EqualTo(original.Graph.Inputs.Select(v => v.Name)));
        Assert.That(model.Graph.Outputs.Select(v => v.Name), Is.EqualTo(original.Graph.Outputs.Select(v => v.Name)));
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
