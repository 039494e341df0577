using EdgeOpt.Onnx.IO;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.Pipeline.Optimization;
using EdgeOpt.Pipeline.Recipes;
using EdgeOpt.TestKit;

namespace EdgeOpt.Pipeline.Tests.Recipes;

public class RecipeTests
{
    private DirectoryInfo _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("edgeopt-recipe-");
        ModelWriter.Write(TinyModels.MatMulAddRelu(), Path.Combine(_dir.FullName, "m.onnx"));
        Directory.CreateDirectory(Path.Combine(_dir.FullName, "cal"));
    }

    [TearDown]
    public void TearDown() => _dir.Delete(recursive: true);

    private Recipe Load(string text)
    {
        var path = Path.Combine(_dir.FullName, "r.yaml");
        File.WriteAllText(path, text);
        return Recipe.Load(path, PassCatalog.CreateDefault());
    }

    private const string Valid = """
        model: m.onnx
        data: { calibration: cal }
        fidelity: { cosine: 0.98 }
        passes:
          - cleanup
          - prune-channels: { ratio: 0.3, criterion: l2, excludeNodes: [a, b], keep: true }
          - quantize-static: { format: QOperator, upgradeOpset: true }
        targets: [x64-cpu, rpi4]
        bench: { runs: 7, warmup: 1, rounds: 2 }
        """;

    [Test]
    public void Valid_PassesBoundToTheirTypedOptions()
    {
        var r = Load(Valid);

        Assert.That(r.Model, Is.EqualTo(Path.Combine(_dir.FullName, "m.onnx")));
        Assert.That((r.CalibrationData, r.EvalData), Is.EqualTo((Path.Combine(_dir.FullName, "cal"), Path.Combine(_dir.FullName, "cal"))), "eval defaults to the calibration data");
        Assert.That(r.Fidelity, Is.EqualTo(new AccuracyTarget(AccuracyMetric.Cosine, 0.98)));
        Assert.That(r.Steps.Select(s => s.PassId), Is.EqualTo(PassCatalog.CleanupSequence.Concat(["prune-channels", "quantize-static"])));
        var prune = (PruneChannelsOptions)r.Steps.Single(s => s.PassId == "prune-channels").Options;
        Assert.That((prune.Ratio, prune.Criterion, prune.ExcludeNodes), Is.EqualTo((0.3, ChannelCriterion.L2, (IReadOnlyList<string>)["a", "b"])));
        Assert.That(r.Steps.Single(s => s.PassId == "prune-channels").Keep, Is.True);
        var defaults = (PruneChannelsOptions)PassCatalog.CreateDefault().Get("prune-channels").DefaultOptions;
        Assert.That((defaults.Criterion, defaults.ExcludeNodes.Count), Is.EqualTo((ChannelCriterion.L1, 0)), "the catalog's defaults are not the recipe's copy");
        Assert.That(r.Targets, Is.EqualTo(new[] { "x64-cpu", "rpi4" }));
        Assert.That(r.Bench, Is.EqualTo(new RecipeBench(7, 1, 2)));
        Assert.That(r.Variants(), Has.Count.EqualTo(1));
    }

    [Test]
    public void Sweep_OneVariantPerCombination_EachWithItsValue()
    {
        var r = Load(Valid + "\nsweep: { prune-channels.ratio: [0.2, 0.4], quantize-static.format: [Qdq, QOperator] }\n");

        var variants = r.Variants();

        Assert.That(variants, Has.Count.EqualTo(4));
        Assert.That(variants.Select(v => ((PruneChannelsOptions)v.Steps.Single(s => s.PassId == "prune-channels").Options).Ratio), Is.EqualTo(new[] { 0.2, 0.2, 0.4, 0.4 }));
        Assert.That(variants[1].Label, Is.EqualTo("prune-channels.ratio=0.2,quantize-static.format=QOperator"));
        Assert.That(((PruneChannelsOptions)variants[3].Steps.Single(s => s.PassId == "prune-channels").Options).Criterion, Is.EqualTo(ChannelCriterion.L2), "other options kept");
    }

    [Test]
    public void Sweep_PassOnAndOff()
    {
        var r = Load(Valid + "\nsweep: { quantize-static.enabled: [true, false] }\n");

        var variants = r.Variants();

        Assert.That(variants.Select(v => v.Label), Is.EqualTo(new[] { "quantize-static.enabled=on", "quantize-static.enabled=off" }));
        Assert.That(variants.Select(v => v.Steps.Single(s => s.PassId == "quantize-static").Enabled), Is.EqualTo(new[] { true, false }));
    }

    [TestCase("passes: [cleanup]\nmodel: m.onnx\ncolour: red\n", "r.yaml:3:1: unknown key 'colour'")]
    [TestCase("model: m.onnx\npasses:\n  - prune-heads\n", "r.yaml:3:5: unknown pass 'prune-heads'")]
    [TestCase("model: m.onnx\npasses:\n  - prune-channels: { rate: 0.3 }\n", "r.yaml:3:23: prune-channels has no option 'rate': its options are ratio")]
    [TestCase("model: m.onnx\npasses:\n  - prune-channels: { ratio: lots }\n", "r.yaml:3:30: prune-channels.ratio:")]
    [TestCase("model: m.onnx\npasses:\n  - prune-channels: { ratio: 1.5 }\n", "r.yaml:3:5: prune-channels: Ratio must be in [0, 1)")]
    [TestCase("model: m.onnx\npasses:\n  - prune-channels: { criterion: l7 }\n", "is not one of L1, L2")]
    [TestCase("model: m.onnx\npasses: [quantize-static]\n", "quantize-static needs calibration data")]
    [TestCase("model: missing.onnx\npasses: [cleanup]\n", "r.yaml:1:8: the model")]
    [TestCase("model: m.onnx\npasses: [cleanup]\nfidelity: { rmse: 1 }\n", "r.yaml:3:13: fidelity")]
    [TestCase("model: m.onnx\npasses: [cleanup]\nsweep: { prune-channels.ratio: [0.1] }\n", "write pass.option for a pass in passes")]
    [TestCase("model: m.onnx\npasses: [cleanup]\nbench: { runs: 0 }\n", "bench needs runs ≥ 1")]
    [TestCase("model: m.onnx\n", "passes lists the passes")]
    public void Bad_ErrorNamesTheLine(string text, string expected) =>
        Assert.That(() => Load(text), Throws.TypeOf<RecipeException>().With.Message.Contains(expected));

    [Test]
    public void Json_IsAcceptedToo()
    {
        var r = Load("""{ "model": "m.onnx", "passes": ["cleanup", { "prune-magnitude": { "sparsity": 0.8 } }] }""");

        Assert.That(((PruneMagnitudeOptions)r.Steps[^1].Options).Sparsity, Is.EqualTo(0.8));
        Assert.That(r.Targets, Is.EqualTo(new[] { "x64-cpu" }), "the default target");
    }
}
