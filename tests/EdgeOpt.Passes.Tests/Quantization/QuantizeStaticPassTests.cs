using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.TestKit;

namespace EdgeOpt.Passes.Tests.Quantization;

/// <summary>Structure of statically quantized graphs (no ONNX Runtime needed: ranges are made up, every tensor in [-4, 4], Relu/Clip outputs in [0, 4]).</summary>
public class QuantizeStaticPassTests
{
    /// <summary>A table with a range for every tensor of <paramref name="model"/> except <paramref name="missing"/>.</summary>
    internal static CalibrationTable Table(Model model, params string[] missing)
    {
        var ranges = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        foreach (var v in model.Graph.Inputs) ranges[v.Name] = new TensorRange(-4, 4);
        foreach (var n in model.Graph.Nodes)
        {
            foreach (var o in n.Outputs.OfType<Value>()) ranges[o.Name] = n.OpType is OpTypes.Relu or OpTypes.Clip or OpTypes.Sigmoid ? new TensorRange(0, 4) : new TensorRange(-4, 4);
        }
        foreach (var m in missing) ranges.Remove(m);
        return new CalibrationTable("test", 1, ranges);
    }

    private static (Model Model, PassReport Report) Quantize(Model model, Func<QuantizeStaticOptions, QuantizeStaticOptions>? configure = null, params string[] missing)
    {
        var options = new QuantizeStaticOptions { Calibration = Table(model, missing) };
        var report = PassChecks.RunAndCheck(new QuantizeStaticPass(configure?.Invoke(options) ?? options), model);
        return (model, report);
    }

    private static Node Single(Model model, string name) => model.Graph.Nodes.Single(n => n.Name == name);

    private static Node Quantizer(Value v) => v.Uses.Select(u => u.Node).Single(n => n.OpType == QuantOps.QuantizeLinear);

    [Test]
    public void ConvRelu_ReluFoldedIntoOneQuantizedOutput()
    {
        var (model, report) = Quantize(QuantModels.Convs());

        Assert.That(PassChecks.Count(model, OpTypes.Relu), Is.Zero);
        var conv = Single(model, "c1_node");
        var q = Quantizer(conv.Output());
        Assert.That(conv.Output().Uses, Has.Count.EqualTo(1), "the Conv output feeds only its quantizer");
        Assert.That(q.Input(QdqInput.ZeroPoint)!.Initializer!.ToSingles(), Is.EqualTo(new[] { 0f }), "zero point at the lowest uint8 code clamps like Relu");
        Assert.That(report.Changes.Select(c => c.Message), Has.Some.Contains("Relu 'r1_node' folded"));
    }

    [Test]
    public void ConvRelu_S8_FoldedWithZeroPointAtLowestCode()
    {
        var (model, _) = Quantize(QuantModels.Convs(), o => o with { ActivationType = QuantType.S8 });

        var q = Quantizer(Single(model, "c1_node").Output());
        Assert.That(q.Input(QdqInput.ZeroPoint)!.Initializer!.ToSingles(), Is.EqualTo(new[] { -128f }));
        Assert.That(PassChecks.Count(model, OpTypes.Relu), Is.Zero);
    }

    [Test]
    public void Bias_Int32WithScaleInputScaleTimesWeightScale()
    {
        var (model, _) = Quantize(QuantModels.Convs());

        var conv = Single(model, "c1_node");
        var bias = conv.Input(ConvInput.B)!.Producer!;
        var weight = conv.Input(ConvInput.W)!.Producer!;
        var input = conv.Input(ConvInput.X)!.Producer!;
        Assert.That(bias.Input(0)!.Initializer!.DataType, Is.EqualTo(TensorDataType.Int32));
        Assert.That(bias.Input(QdqInput.ZeroPoint)!.Initializer!.ToSingles(), Has.All.Zero);
        var inputScale = input.Input(QdqInput.Scale)!.Initializer!.ToSingles()[0];
        var expected = weight.Input(QdqInput.Scale)!.Initializer!.ToSingles().Select(s => inputScale * s);
        Assert.That(bias.Input(QdqInput.Scale)!.Initializer!.ToSingles(), Is.EqualTo(expected));
        Assert.That(weight.Input(0)!.Initializer!.DataType, Is.EqualTo(TensorDataType.Int8));
        Assert.That(weight.GetInt(QuantAttrs.Axis, -1), Is.Zero, "per output channel");
    }

    [Test]
    public void Passthrough_ReusesInputScaleAndZeroPoint()
    {
        var (model, report) = Quantize(QuantModels.Cnn());

        var pool = Single(model, "p1_node");
        var poolQ = Quantizer(pool.Output());
        var reluQ = Quantizer(Single(model, "c1_node").Output());
        Assert.That(poolQ.Input(QdqInput.Scale), Is.SameAs(reluQ.Input(QdqInput.Scale)));
        Assert.That(poolQ.Input(QdqInput.ZeroPoint), Is.SameAs(reluQ.Input(QdqInput.ZeroPoint)));
        Assert.That(report.Changes.Single(c => c.Target.StartsWith("f_node")).Message, Does.Contain("reuses the parameters of 'g'"));
    }

    [Test]
    public void SoftmaxStaysFloat_GraphOutputsKeepNamesAndFloatTypes()
    {
        var (model, report) = Quantize(QuantModels.Cnn());

        Assert.That(report.Skips.Single(s => s.Target.StartsWith("prob_node")).Message, Is.EqualTo("Softmax is left in float (int8 Softmax costs accuracy)"));
        var logits = model.Graph.Outputs[0];
        Assert.That(logits.Name, Is.EqualTo("logits"));
        Assert.That(logits.Producer!.OpType, Is.EqualTo(QuantOps.DequantizeLinear), "the quantized Gemm output leaves int8 under its own name");
        Assert.That(Single(model, "prob_node").Input(0), Is.SameAs(logits));
    }

    [Test]
    public void NoDequantizeFeedsAQuantize()
    {
        foreach (var format in new[] { QuantFormat.Qdq, QuantFormat.QOperator })
        {
            var (model, _) = Quantize(QuantModels.Cnn(), o => o with { Format = format });

            var chains = model.Graph.Nodes.Where(n => n.OpType == QuantOps.QuantizeLinear && n.Input(0)!.Producer?.OpType == QuantOps.DequantizeLinear);
            Assert.That(chains, Is.Empty, format.ToString());
        }
    }

    [Test]
    public void MissingRange_SkipsThatNodeWithTheTensorName()
    {
        var (model, report) = Quantize(QuantModels.Cnn(), missing: "r2");

        Assert.That(report.Skips.Single(s => s.Target.StartsWith("c2_node")).Message, Is.EqualTo("no calibration range for output 'r2'"));
        Assert.That(Single(model, "c2_node").Input(ConvInput.W)!.IsInitializer, Is.True, "c2 keeps its float weight");
        Assert.That(PassChecks.Count(model, OpTypes.Clip), Is.EqualTo(1), "its Clip is not folded");
    }

    [Test]
    public void CheapOpOnFloatInputs_LeftInFloat()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 8);
        var model = b.Outputs(b.Op(OpTypes.Add, [x, x], "y")).Build();

        var (_, report) = Quantize(model);

        Assert.That(report.Skips.Single(s => s.Target.StartsWith("y_node")).Message, Does.Contain("would add Q/DQ overhead"));
        Assert.That(PassChecks.Count(model, QuantOps.QuantizeLinear), Is.Zero, "no Q/DQ where no quantized op runs");
    }

    [Test]
    public void S8Qdq_AddConcatMulLeftInFloatWithReason()
    {
        var (_, report) = Quantize(QuantModels.Cnn(), o => o with { ActivationType = QuantType.S8 });

        Assert.That(report.Skips.Single(s => s.Target.StartsWith("a_node")).Message, Does.Contain("only for uint8 activations"));
    }

    [Test]
    public void ExcludeNodesAndIncludeOpTypes_Respected()
    {
        var (model, report) = Quantize(QuantModels.Cnn(), o => o with { ExcludeNodes = ["c1_node"], IncludeOpTypes = [OpTypes.Conv, OpTypes.Relu, OpTypes.Clip] });

        Assert.That(report.Skips.Single(s => s.Target.StartsWith("c1_node")).Message, Is.EqualTo("excluded by name (ExcludeNodes)"));
        Assert.That(report.Skips.Single(s => s.Target.StartsWith("logits_node")).Message, Is.EqualTo("Gemm is not in IncludeOpTypes"));
        Assert.That(Single(model, "c1_node").Input(ConvInput.W)!.IsInitializer, Is.True);
        Assert.That(Single(model, "c2_node").Input(ConvInput.W)!.Producer!.OpType, Is.EqualTo(QuantOps.DequantizeLinear));
    }

    [Test]
    public void QOperator_IntegerOpsReplaceFloatOps()
    {
        var (model, _) = Quantize(QuantModels.Cnn(), o => o with { Format = QuantFormat.QOperator });

        Assert.That(PassChecks.Count(model, QuantOps.QLinearConv), Is.EqualTo(3));
        foreach (var op in new[] { QuantOps.QGemm, QuantOps.QLinearAdd, QuantOps.QLinearMul, QuantOps.QLinearConcat, QuantOps.QLinearSigmoid, QuantOps.QLinearAveragePool, QuantOps.QLinearGlobalAveragePool })
        {
            Assert.That(PassChecks.Count(model, op), Is.EqualTo(1), op);
        }
        foreach (var op in new[] { OpTypes.Conv, OpTypes.Relu, OpTypes.Clip, OpTypes.Gemm, OpTypes.Add })
        {
            Assert.That(PassChecks.Count(model, op), Is.Zero, op);
        }
        Assert.That(PassChecks.Count(model, QuantOps.QuantizeLinear), Is.EqualTo(1));
        Assert.That(model.OpsetVersion(QuantOps.MicrosoftDomain), Is.EqualTo(1));
    }

    [Test]
    public void ConvTranspose_WeightOnlyWithReason()
    {
        var (model, report) = Quantize(QuantModels.Decoder(), o => o with { ConvTransposeAsConv = false });

        var up = Single(model, "up_node");
        Assert.That(up.Input(ConvInput.W)!.Producer!.OpType, Is.EqualTo(QuantOps.DequantizeLinear));
        Assert.That(up.Input(ConvInput.B)!.IsInitializer, Is.True, "bias stays float");
        Assert.That(report.Changes.Single(c => c.Target.StartsWith("up_node")).Message, Does.Contain("no int8 ConvTranspose"));
        Assert.That(report.Skips.Single(s => s.Target.StartsWith("rs_node")).Message, Does.Contain("is float"));
    }

    [Test]
    public void NoCalibration_ThrowsWithWhatToDo()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new QuantizeStaticPass().Run(QuantModels.Cnn(), PassContext.Default));
        Assert.That(e!.Message, Does.Contain("Calibration"));
    }

    [Test]
    public void NoTable_AsksTheContextsProviderForExactlyTheCalibrationTargets()
    {
        var model = QuantModels.Cnn();
        var expected = QuantizeStaticPass.CalibrationTargets(model, new QuantizeStaticOptions());
        var provider = new FixedRanges();

        var report = new QuantizeStaticPass().Run(model, new PassContext { Calibration = provider });

        Assert.That(provider.Asked, Is.EqualTo(expected));
        Assert.That(model.Graph.Nodes.Any(n => n.OpType == "QuantizeLinear"), Is.True);
        Assert.That(report.Changes, Is.Not.Empty);
    }

    private sealed class FixedRanges : ICalibrationProvider
    {
        public IReadOnlyList<string> Asked { get; private set; } = [];

        public CalibrationTable Calibrate(Model model, IReadOnlyList<string> tensors, CancellationToken cancellation)
        {
            Asked = tensors;
            return new CalibrationTable("fixed", 1, tensors.ToDictionary(t => t, _ => new TensorRange(-4, 4)));
        }
    }

    [Test]
    public void OldOpset_SkippedWithoutUpgrade_QuantizedWithIt()
    {
        var model = QuantModels.Cnn(opset: 9);
        var (_, kept) = Quantize(model);
        Assert.That(kept.Changes, Is.Empty);
        Assert.That(kept.Skips.Single().Message, Does.Contain("set UpgradeOpset"));

        var (upgraded, report) = Quantize(QuantModels.Cnn(opset: 9), o => o with { UpgradeOpset = true });
        Assert.That(upgraded.OpsetVersion(), Is.EqualTo(13));
        Assert.That(report.Changes[0].Message, Does.StartWith("opset 9 → 13"));
        Assert.That(PassChecks.Count(upgraded, OpTypes.Clip), Is.Zero, "the converted Clip(0, 6) is folded");
    }

    [Test]
    public void CalibrationTargets_ListTheTensorsThePassReads()
    {
        var model = QuantModels.Cnn();

        var targets = QuantizeStaticPass.CalibrationTargets(model, new QuantizeStaticOptions());

        Assert.That(targets, Is.SupersetOf(new[] { "x", "r1", "r2", "a", "s", "m", "cat", "ap", "g", "logits" }));
        Assert.That(targets, Has.No.Member("c1").And.No.Member("prob").And.No.Member("p1"), "folded, float and passthrough tensors need no range");
        Assert.That(model.Graph.Nodes, Has.Count.EqualTo(15), "the model is not changed");
    }

    [Test]
    public void Output_IsDeterministic()
    {
        var model = QuantModels.Cnn();
        PassChecks.AssertDeterministic(new QuantizeStaticPass(new QuantizeStaticOptions { Calibration = Table(model) }), () => QuantModels.Cnn());
        PassChecks.AssertDeterministic(new QuantizeStaticPass(new QuantizeStaticOptions { Calibration = Table(model), Format = QuantFormat.QOperator }), () => QuantModels.Cnn());
    }

    [Test]
    public void Options_Validated()
    {
        var bad = new QuantizeStaticOptions
        {
            Calibration = new CalibrationTable("x", 1, new Dictionary<string, TensorRange> { ["t"] = new(2, 1) }),
            IncludeNodes = ["n"], ExcludeNodes = ["n"],
        };
        var e = Assert.Throws<ArgumentException>(() => new QuantizeStaticPass(bad));
        Assert.That(e!.Message, Does.Contain("calibration range of 't'").And.Contain("node 'n' is both included and excluded"));
    }

    [Test]
    public void Catalog_OffersBothPassesAsLossy()
    {
        var catalog = PassCatalog.CreateDefault();

        Assert.That(catalog.Create(QuantizeStaticPass.PassId).IsExact, Is.False);
        Assert.That(catalog.Create(QuantizeDynamicPass.PassId, new QuantizeDynamicOptions { PerChannel = false }).IsExact, Is.False);
    }
}
