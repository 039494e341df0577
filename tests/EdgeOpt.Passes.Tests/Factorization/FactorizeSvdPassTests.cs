using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Passes.Tests.Pruning;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;
using static EdgeOpt.Passes.Tests.Factorization.FactorModels;

namespace EdgeOpt.Passes.Tests.Factorization;

/// <summary>
/// <see cref="FactorizeSvdPass"/>: an exactly rank-r weight is rebuilt within 1e-4 in ONNX Runtime (MatMul, Gemm in every
/// transA/transB layout with bias, α and β, 1×1 Conv with stride and pads), the reported ranks, sizes and MACs, and the skips.
/// </summary>
public class FactorizeSvdPassTests
{
    /// <summary>Energy just below 1: the rank of an exactly rank-r weight, whatever the float rounding left.</summary>
    private static FactorizeSvdOptions Exact => new() { Energy = 0.999999 };

    /// <summary>Factorizes a copy, checks structure and the same outputs in ORT within 1e-4, and returns the pass.</summary>
    private static FactorizeSvdPass FactorizeAndCompare(Model model, FactorizeSvdOptions options)
    {
        var factorized = ModelReader.Copy(model);
        var pass = new FactorizeSvdPass(options);
        PassChecks.RunAndCheck(pass, factorized);
        Assert.That(pass.LastResult!.Layers, Is.Not.Empty, string.Join("; ", pass.LastResult.Skipped.Select(s => s.Reason)));
        PruneOrt.AssertSameOutputs(model, factorized, rtol: 1e-4, atol: 1e-4);
        return pass;
    }

    private static Model MatMul(long[] input, int n, int m, int rank)
    {
        var b = new GraphBuilder();
        var y = b.Op(OpTypes.MatMul, [b.Input("x", input), b.Constant("w", [n, m], LowRankMatrix(n, m, rank, 3))], "y");
        return b.Outputs(y).Build();
    }

    [Test]
    public void MatMul_RankEightWeight_ExactInOrt()
    {
        var pass = FactorizeAndCompare(MatMul([2, 5, 64], 64, 48, 8), Exact);

        var layer = pass.LastResult!.Layers.Single();
        Assert.That(layer.Method, Is.EqualTo("Svd"));
        Assert.That(layer.Ranks, Is.EqualTo(new[] { 8 }));
        Assert.That(layer.ParametersBefore, Is.EqualTo(64 * 48));
        Assert.That(layer.ParametersAfter, Is.EqualTo(8 * (64 + 48)));
        Assert.That(layer.MacsBefore, Is.EqualTo(10 * 64 * 48));
        Assert.That(layer.MacsAfter, Is.EqualTo(10 * 8 * (64 + 48)));
        Assert.That(layer.RelativeError, Is.LessThan(1e-5));
    }

    [Test]
    public void UnnamedNode_IsReportedByItsOutputName_AsIncludeNodesKnowsIt()
    {
        var b = new GraphBuilder();
        var h = b.Op(OpTypes.MatMul, [b.Input("x", 4, 64), b.Constant("w", [64, 48], LowRankMatrix(64, 48, 8, 3))], "h");
        h.Producer!.Name = "";
        var model = b.Outputs(b.Op(OpTypes.Relu, [h], "y")).Build();

        var pass = FactorizeAndCompare(model, Exact with { IncludeNodes = ["h"] });

        Assert.That(pass.LastResult!.Layers.Single().Node, Is.EqualTo("h"), "the name taken before the factors took over the output");
    }

    [TestCase(0, 0)]
    [TestCase(0, 1)]
    [TestCase(1, 0)]
    [TestCase(1, 1)]
    public void Gemm_AnyTransposeWithBiasAlphaBeta_ExactInOrt(int transA, int transB)
    {
        const int k = 40, n = 56;
        var w = LowRankMatrix(k, n, 8, 5);
        var b = new GraphBuilder();
        var x = b.Input("x", transA == 1 ? [k, 3] : [3, k]);
        var weight = transB == 1 ? b.Constant("w", [n, k], Transpose(w, k, n)) : b.Constant("w", [k, n], w);
        var y = b.Op(OpTypes.Gemm, [x, weight, b.Weight("c", 4, n)], "y",
            Attribute.Int(AttrNames.TransA, transA), Attribute.Int(AttrNames.TransB, transB), Attribute.Float(AttrNames.Alpha, 0.5f), Attribute.Float(AttrNames.Beta, 2f));
        var model = b.Outputs(y).Build();

        var pass = FactorizeAndCompare(model, Exact);

        Assert.That(pass.LastResult!.Layers.Single().Ranks, Is.EqualTo(new[] { 8 }));
        var (first, second) = (model.Graph.Nodes, pass.LastResult.Layers.Single().Nodes);
        Assert.That(first, Has.Count.EqualTo(1), "the input model is untouched");
        Assert.That(second, Has.Count.EqualTo(2));
    }

    [Test]
    public void Gemm_TransB_FactorsKeepTheTransposedLayout()
    {
        var b = new GraphBuilder();
        var y = b.Op(OpTypes.Gemm, [b.Input("x", 1, 40), b.Constant("w", [56, 40], Transpose(LowRankMatrix(40, 56, 8, 5), 40, 56))], "y", Attribute.Int(AttrNames.TransB, 1));
        var model = b.Outputs(y).Build();

        new FactorizeSvdPass(Exact).Run(model, PassContext.Default);

        var gemms = model.Graph.Nodes.Where(n => n.OpType == OpTypes.Gemm).ToList();
        Assert.That(gemms.Select(g => g.GetInt(AttrNames.TransB, 0)), Has.All.EqualTo(1));
        Assert.That(gemms.Select(g => g.Input(1)!.Constant!.Dims), Is.EqualTo(new[] { new long[] { 8, 40 }, new long[] { 56, 8 } }));
        Assert.That(gemms[1].Input(2), Is.Null, "no bias was invented");
    }

    [Test]
    public void Conv1x1_StridePads_ExactInOrt()
    {
        var model = Conv(LowRankMatrix(32, 48, 8, 7), [32, 48, 1, 1], [1, 48, 9, 9],
            Attribute.Ints(AttrNames.Strides, 2, 2), Attribute.Ints(AttrNames.Pads, 1, 0, 1, 2));

        var pass = FactorizeAndCompare(model, Exact);

        var layer = pass.LastResult!.Layers.Single();
        Assert.That(layer.Ranks, Is.EqualTo(new[] { 8 }));
        Assert.That(layer.MacsAfter, Is.EqualTo(layer.MacsBefore!.Value * 8 * (32 + 48) / (32 * 48)));
    }

    [Test]
    public void RankRatio_RoundsUpToTheMultiple()
    {
        var model = MatMul([4, 64], 64, 64, 64);

        var pass = new FactorizeSvdPass(new FactorizeSvdOptions { RankRatio = 0.1, RankMultiple = 8 });
        pass.Run(model, PassContext.Default);

        Assert.That(pass.LastResult!.Layers.Single().Ranks, Is.EqualTo(new[] { 8 }), "⌈0.1·64⌉ = 7 → 8");
        Assert.That(pass.LastResult.Layers.Single().RelativeError, Is.GreaterThan(0.1).And.LessThan(1), "a full-rank weight loses energy");
    }

    [Test]
    public void Energy_KeepsAtLeastThatShare()
    {
        var model = MatMul([4, 96], 96, 80, 80);
        var pass = new FactorizeSvdPass(new FactorizeSvdOptions { Energy = 0.5, RankMultiple = 1 });

        pass.Run(model, PassContext.Default);

        var error = pass.LastResult!.Layers.Single().RelativeError;
        Assert.That(1 - error * error, Is.GreaterThanOrEqualTo(0.5 - 1e-6), "kept energy = 1 − relative error²");
    }

    [Test]
    public void FullRankWeight_SkippedWithTheReason()
    {
        var model = MatMul([1, 64], 64, 64, 64);
        var before = ModelWriter.ToBytes(model);

        var report = new FactorizeSvdPass(new FactorizeSvdOptions { Energy = 0.99 }).Run(model, PassContext.Default);

        Assert.That(report.Changes, Is.Empty);
        Assert.That(report.Skips.Single().Message, Does.Contain("would not save").And.Contain("r·(n+m)"));
        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before));
    }

    [Test]
    public void TinyWeight_EvenTheSmallestRankSavesNothing()
    {
        var report = new FactorizeSvdPass().Run(MatMul([1, 16], 16, 16, 2), PassContext.Default);

        Assert.That(report.Skips.Single().Message, Does.Contain("even rank 8 (RankMultiple) saves nothing"));
    }

    [Test]
    public void SpatialOrGroupedConvAndNonConstantWeights_Skipped()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 16, 6, 6);
        var k3 = b.Op(OpTypes.Conv, [x, b.Weight("w3", 1, 16, 16, 3, 3)], "k3", Attribute.Ints(AttrNames.Pads, 1, 1, 1, 1));
        var grouped = b.Op(OpTypes.Conv, [k3, b.Weight("wg", 2, 16, 8, 1, 1)], "grouped", Attribute.Int(AttrNames.Group, 2));
        var flat = b.Op(OpTypes.Flatten, [grouped], "flat");
        var dynamic = b.Op(OpTypes.MatMul, [flat, b.Input("w_in", 576, 64)], "dyn");
        var model = b.Outputs(dynamic).Build();

        var report = new FactorizeSvdPass().Run(model, PassContext.Default);

        var skips = report.Skips.ToDictionary(s => s.Target, s => s.Message);
        Assert.That(skips["k3_node (Conv)"], Does.Contain("not 1×1").And.Contain("factorize-conv"));
        Assert.That(skips["grouped_node (Conv)"], Does.Contain("group 2"));
        Assert.That(skips["dyn_node (MatMul)"], Does.Contain("not a constant"));
    }

    [Test]
    public void IncludeOpTypes_LeavesTheOthers()
    {
        var b = new GraphBuilder();
        var h = b.Op(OpTypes.MatMul, [b.Input("x", 1, 64), b.Constant("w1", [64, 64], LowRankMatrix(64, 64, 8, 1))], "h");
        var y = b.Op(OpTypes.Gemm, [h, b.Constant("w2", [64, 64], LowRankMatrix(64, 64, 8, 2))], "y");
        var model = b.Outputs(y).Build();

        var report = new FactorizeSvdPass(Exact with { IncludeOpTypes = [OpTypes.Gemm] }).Run(model, PassContext.Default);

        Assert.That(report.Changes.Select(c => c.Target), Does.Contain("y_node (Gemm)"));
        Assert.That(report.Skips, Is.Empty, "other op types are not considered");
        Assert.That(model.Graph.Nodes.Count(n => n.OpType == OpTypes.MatMul), Is.EqualTo(1));
    }

    [Test]
    public void Randomized_SameSeedSameBytes_ParallelOrNot()
    {
        Model Build()
        {
            var b = new GraphBuilder();
            var h = b.Op(OpTypes.MatMul, [b.Input("x", 2, 96), b.Constant("w1", [96, 80], LowRankMatrix(96, 80, 40, 1))], "h");
            var y = b.Op(OpTypes.MatMul, [h, b.Constant("w2", [80, 96], LowRankMatrix(80, 96, 40, 2))], "y");
            return b.Outputs(y).Build();
        }
        var options = new FactorizeSvdOptions { RankRatio = 0.2, RandomizedMinDim = 64, Oversampling = 4, PowerIterations = 1 };
        var serial = Build();
        new FactorizeSvdPass(options with { MaxParallelism = 1 }).Run(serial, PassContext.Default);

        PassChecks.AssertDeterministic(new FactorizeSvdPass(options), Build);
        var parallel = Build();
        new FactorizeSvdPass(options).Run(parallel, PassContext.Default);
        Assert.That(ModelWriter.ToBytes(parallel), Is.EqualTo(ModelWriter.ToBytes(serial)), "the thread count changes nothing");

        var reseeded = Build();
        new FactorizeSvdPass(options with { Seed = options.Seed + 1 }).Run(reseeded, PassContext.Default);
        Assert.That(ModelWriter.ToBytes(reseeded), Is.Not.EqualTo(ModelWriter.ToBytes(serial)), "the seed reaches the sketch");
    }
}
