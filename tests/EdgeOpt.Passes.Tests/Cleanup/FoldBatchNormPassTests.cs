using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.TestKit;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Tests.Cleanup;

public class FoldBatchNormPassTests
{
    private static readonly FoldBatchNormPass Pass = new();

    public static IEnumerable<TestCaseData> ConvCases()
    {
        yield return Case("Conv3x3Pad1WithBias", [1, 3, 6, 6], [4, 3, 3, 3], true, Ints("pads", 1, 1, 1, 1));
        yield return Case("Conv1x1NoBias", [2, 3, 4, 5], [5, 3, 1, 1], false);
        yield return Case("ConvGroup2Stride2Dilation2AsymmetricPads", [1, 4, 9, 8], [6, 2, 3, 2], true,
            Attribute.Int("group", 2), Ints("strides", 2, 2), Ints("dilations", 2, 1), Ints("pads", 1, 0, 2, 1));
        yield return Case("DepthwiseConv", [1, 4, 5, 5], [4, 1, 3, 3], true, Attribute.Int("group", 4), Ints("pads", 1, 1, 1, 1));
    }

    public static IEnumerable<TestCaseData> ConvTransposeCases()
    {
        yield return Case("ConvTransposeStride2WithBias", [1, 3, 4, 4], [3, 2, 3, 3], true, Ints("strides", 2, 2));
        yield return Case("ConvTransposeGroup2PadsOutputPaddingNoBias", [1, 4, 3, 5], [4, 3, 3, 2], false,
            Attribute.Int("group", 2), Ints("strides", 2, 3), Ints("pads", 1, 0, 0, 1), Ints("output_padding", 1, 2));
    }

    [TestCaseSource(nameof(ConvCases))]
    public void ConvThenBatchNorm_FoldedAndMatchesReference(long[] x, long[] w, bool bias, Attribute[] attrs)
    {
        AssertFoldsExactly(() => ProducerBn(OpTypes.Conv, x, w, w[0], bias, attrs), OpTypes.Conv);
    }

    [TestCaseSource(nameof(ConvTransposeCases))]
    public void ConvTransposeThenBatchNorm_FoldedAndMatchesReference(long[] x, long[] w, bool bias, Attribute[] attrs)
    {
        var group = attrs.FirstOrDefault(a => a.Name == "group")?.AsInt() ?? 1;
        AssertFoldsExactly(() => ProducerBn(OpTypes.ConvTranspose, x, w, w[1] * group, bias, attrs), OpTypes.ConvTranspose);
    }

    [TestCase(false, null, 1f, 1f, TestName = "GemmThenBatchNorm_NoC_FoldedAndMatchesReference")]
    [TestCase(true, new long[] { 5 }, 0.5f, 2f, TestName = "GemmThenBatchNorm_TransBVectorCAlphaBeta_FoldedAndMatchesReference")]
    [TestCase(true, new long[] { 1, 5 }, 1f, 1f, TestName = "GemmThenBatchNorm_TransBRowC_FoldedAndMatchesReference")]
    [TestCase(false, new long[] { 3, 5 }, 1f, 0.25f, TestName = "GemmThenBatchNorm_FullC_FoldedAndMatchesReference")]
    [TestCase(false, new long[] { 3, 1 }, 1f, 1f, TestName = "GemmThenBatchNorm_ColumnC_FoldedAndMatchesReference")]
    [TestCase(true, new long[0], 1f, 3f, TestName = "GemmThenBatchNorm_ScalarC_FoldedAndMatchesReference")]
    [TestCase(false, new long[] { 5 }, 2f, 0f, TestName = "GemmThenBatchNorm_BetaZero_FoldedAndMatchesReference")]
    public void GemmThenBatchNorm_FoldedAndMatchesReference(bool transB, long[]? c, float alpha, float beta)
    {
        AssertFoldsExactly(() => GemmBn(transB, c, alpha, beta), OpTypes.Gemm);
    }

    [TestCase(TensorDataType.Float16, 2e-3, 1e-3)]
    [TestCase(TensorDataType.Double, 1e-9, 1e-12)]
    public void NonFloat32Weights_FoldedInTheirOwnType(TensorDataType type, double rtol, double atol)
    {
        var model = TypedConvBn(type);

        PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.BatchNormalization), Is.Zero);
        var conv = model.Graph.Nodes.Single(n => n.OpType == OpTypes.Conv);
        Assert.That(conv.Input(1)!.Initializer!.DataType, Is.EqualTo(type));
        Assert.That(conv.Input(2)!.Initializer!.DataType, Is.EqualTo(type));
        // float16 weights round once more after folding, so they get float16's own tolerance.
        PassChecks.AssertSameOutputs(TypedConvBn(type), model, rtol: rtol, atol: atol);
    }

    [Test]
    public void FoldedConv_ReplacesOldWeightsWithNamedInitializers()
    {
        var model = ProducerBn(OpTypes.Conv, [1, 3, 6, 6], [4, 3, 3, 3], 4, true, []);

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.Initializers.Select(i => i.Name), Is.EquivalentTo(new[] { "conv_node/bn_folded_weight", "conv_node/bn_folded_bias" }));
        Assert.That(report.Changes.Single().Message, Is.EqualTo("folded into Conv 'conv_node' (4 channels)"));
    }

    [Test]
    public void SharedWeight_NewInitializerAndSharedTensorUntouched()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 3, 5, 5);
        var w = b.Weight("w", 1, 4, 3, 1, 1);
        var original = w.Initializer!.ToArray<float>();
        var folded = BatchNorm(b, b.Op(OpTypes.Conv, [x, w], "conv"), 4);
        var other = b.Op(OpTypes.Conv, [x, w], "other");
        var model = b.Outputs(folded, other).Build();

        PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.FindValue("other")!.Producer!.Input(1), Is.SameAs(w), "the other Conv still reads the shared weight");
        Assert.That(w.Initializer!.ToArray<float>(), Is.EqualTo(original), "the shared tensor is unchanged");
        Assert.That(model.Graph.FindValue("bn")!.Producer!.Input(1)!.Name, Is.EqualTo("conv_node/bn_folded_weight"));
    }

    [Test]
    public void BatchNormOutputIsGraphOutput_FoldedAndNameKept()
    {
        var b = new GraphBuilder();
        var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 3, 3), b.Weight("w", 1, 3, 2, 1, 1)], "conv");
        var model = b.Outputs(BatchNorm(b, conv, 3)).Build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(model.Graph.Outputs.Single().Producer!.OpType, Is.EqualTo(OpTypes.Conv));
        Assert.That(report.Changes.Single().Message, Does.Contain("graph output 'bn' keeps its name"));
    }

    [Test]
    public void ConvOutputSharedWithAnotherNode_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 3, 3), b.Weight("w", 1, 3, 2, 1, 1)], "conv");
        var model = b.Outputs(BatchNorm(b, conv, 3), b.Op(OpTypes.Relu, [conv], "relu")).Build();

        AssertSkipped(model, "'conv' has 2 uses");
    }

    [Test]
    public void ConvOutputIsGraphOutput_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 3, 3), b.Weight("w", 1, 3, 2, 1, 1)], "conv");
        var model = b.Outputs(BatchNorm(b, conv, 3), conv).Build();

        AssertSkipped(model, "'conv' is also a graph output");
    }

    [Test]
    public void TrainingModeAttribute_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 3, 3), b.Weight("w", 1, 3, 2, 1, 1)], "conv");
        var model = b.Outputs(BatchNorm(b, conv, 3, Attribute.Int("training_mode", 1))).Build(15);

        AssertSkipped(model, "training_mode=1");
    }

    [Test]
    public void RunningMeanOutputUsed_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 3, 3), b.Weight("w", 1, 3, 2, 1, 1)], "conv");
        var bn = b.Node(OpTypes.BatchNormalization, [conv, .. BatchNormParameters(b, 3)], ["bn", "running_mean", "running_var"]);
        var model = b.Outputs(bn.Output(0), bn.Output(1)).Build(15);

        AssertSkipped(model, "training output 'running_mean' is used");
    }

    [Test]
    public void ScaleNotConstant_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 3, 3), b.Weight("w", 1, 3, 2, 1, 1)], "conv");
        var parameters = BatchNormParameters(b, 3);
        parameters[0] = b.Input("gamma_in", 3);
        var model = b.Outputs(b.Op(OpTypes.BatchNormalization, [conv, .. parameters], "bn")).Build();

        AssertSkipped(model, "scale 'gamma_in' is not a constant");
    }

    [Test]
    public void ConvWeightNotConstant_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var conv = b.Op(OpTypes.Conv, [b.Input("x", 1, 2, 3, 3), b.Input("w", 3, 2, 1, 1)], "conv");
        var model = b.Outputs(BatchNorm(b, conv, 3)).Build();

        AssertSkipped(model, "Conv weight 'w' is not a constant");
    }

    [Test]
    public void BatchNormAfterRelu_SkippedWithReason()
    {
        var b = new GraphBuilder();
        var relu = b.Op(OpTypes.Relu, [b.Input("x", 1, 3, 2, 2)], "relu");
        var model = b.Outputs(BatchNorm(b, relu, 3)).Build();

        AssertSkipped(model, "input comes from Relu");
    }

    [Test]
    public void SecondRun_ChangesNothing()
    {
        PassChecks.AssertIdempotent(Pass, ProducerBn(OpTypes.Conv, [1, 3, 6, 6], [4, 3, 3, 3], 4, true, []));
        PassChecks.AssertIdempotent(Pass, GemmBn(true, [5], 1f, 1f));
    }

    [Test]
    public void FreshCopies_GiveByteIdenticalOutput()
    {
        PassChecks.AssertDeterministic(Pass, () => ProducerBn(OpTypes.ConvTranspose, [1, 3, 4, 4], [3, 2, 3, 3], 2, true, []));
        PassChecks.AssertDeterministic(Pass, () => GemmBn(false, [3, 5], 1f, 0.5f));
    }

    private static void AssertFoldsExactly(Func<Model> build, string producer)
    {
        var model = build();

        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(PassChecks.Count(model, OpTypes.BatchNormalization), Is.Zero, string.Join("; ", report.Skips));
        Assert.That(PassChecks.Count(model, producer), Is.EqualTo(1));
        PassChecks.AssertSameOutputs(build(), model);
    }

    private static void AssertSkipped(Model model, string reason)
    {
        var report = PassChecks.RunAndCheck(Pass, model);

        Assert.That(report.Changes, Is.Empty);
        Assert.That(PassChecks.Count(model, OpTypes.BatchNormalization), Is.EqualTo(1));
        Assert.That(report.Skips.Single().Message, Does.Contain(reason));
    }

    /// <summary>y = Relu(BatchNormalization(op(x, w[, b]))) for Conv or ConvTranspose with <paramref name="channels"/> outputs.</summary>
    private static Model ProducerBn(string op, long[] x, long[] w, long channels, bool bias, Attribute[] attrs)
    {
        var b = new GraphBuilder();
        Value?[] inputs = bias ? [b.Input("x", x), b.Weight("w", 1, w), b.Weight("b", 2, channels)] : [b.Input("x", x), b.Weight("w", 1, w)];
        var bn = BatchNorm(b, b.Op(op, inputs, "conv", attrs), channels);
        return b.Outputs(b.Op(OpTypes.Relu, [bn], "y")).Build();
    }

    /// <summary>y = Relu(BatchNormalization(Gemm(a[3,4], B, C))) with 5 output columns.</summary>
    private static Model GemmBn(bool transB, long[]? c, float alpha, float beta)
    {
        var b = new GraphBuilder();
        var a = b.Input("a", 3, 4);
        var weight = b.Weight("B", 1, transB ? [5, 4] : [4, 5]);
        Value?[] inputs = c == null ? [a, weight] : [a, weight, b.Weight("C", 2, c)];
        var gemm = b.Op(OpTypes.Gemm, inputs, "gemm",
            Attribute.Int("transB", transB ? 1 : 0), Attribute.Float("alpha", alpha), Attribute.Float("beta", beta));
        return b.Outputs(b.Op(OpTypes.Relu, [BatchNorm(b, gemm, 5)], "y")).Build();
    }

    /// <summary>y = BatchNormalization(Conv(x, w, b)) with every tensor of <paramref name="type"/>.</summary>
    private static Model TypedConvBn(TensorDataType type)
    {
        var b = new GraphBuilder();
        var x = b.Input("x", TensorType.Of(type, 1, 2, 4, 4));
        Value Typed(string name, int seed, double low, double high, params long[] dims)
        {
            var data = Array.ConvertAll(TinyModels.Random((int)dims.Aggregate(1L, (p, q) => p * q), seed), v => low + (v + 1) / 2 * (high - low));
            return b.Graph.AddInitializer(type == TensorDataType.Float16
                ? Tensor.Create(name, dims, Array.ConvertAll(data, v => (Half)v))
                : Tensor.Create(name, dims, data));
        }
        var conv = b.Op(OpTypes.Conv, [x, Typed("w", 1, -1, 1, 3, 2, 3, 3), Typed("b", 2, -1, 1, 3)], "conv", Ints("pads", 1, 1, 1, 1));
        var bn = b.Op(OpTypes.BatchNormalization,
            [conv, Typed("gamma", 3, 0.5, 2, 3), Typed("beta", 4, -1, 1, 3), Typed("mean", 5, -1, 1, 3), Typed("var", 6, 0.1, 2, 3)], "y");
        return b.Outputs(bn).Build();
    }

    private static Value BatchNorm(GraphBuilder b, Value x, long channels, params Attribute[] attrs) =>
        b.Op(OpTypes.BatchNormalization, [x, .. BatchNormParameters(b, channels)], "bn", [Attribute.Float("epsilon", 1e-3f), .. attrs]);

    /// <summary>γ in [0.5, 2), β and μ in [-1, 1), σ² in [0.1, 2): seeded.</summary>
    private static Value?[] BatchNormParameters(GraphBuilder b, long channels) =>
    [
        b.Weight(b.Graph.UniqueName("gamma"), 3, 0.5, 2, channels),
        b.Weight(b.Graph.UniqueName("beta"), 4, channels),
        b.Weight(b.Graph.UniqueName("mean"), 5, channels),
        b.Weight(b.Graph.UniqueName("var"), 6, 0.1, 2, channels),
    ];

    private static Attribute Ints(string name, params long[] values) => Attribute.Ints(name, values);

    private static TestCaseData Case(string name, long[] x, long[] w, bool bias, params Attribute[] attrs) =>
        new TestCaseData(x, w, bias, attrs).SetArgDisplayNames(name);
}
