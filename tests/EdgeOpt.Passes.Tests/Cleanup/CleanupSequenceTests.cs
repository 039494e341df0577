using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.TestKit;

namespace EdgeOpt.Passes.Tests.Cleanup;

/// <summary>The whole cleanup sequence, through <see cref="PassManager"/> (which re-validates after each pass), on real models and the backend corpus.</summary>
public class CleanupSequenceTests
{
    /// <summary>Real models: (where, path parts, BatchNormalizations expected to stay because no Conv/ConvTranspose/Gemm feeds them).</summary>
    public static IEnumerable<TestCaseData> RealModels()
    {
        yield return Real("shared", 0, "models", "mnist-8.onnx");
        yield return Real("shared", 0, "models", "fastestdet.onnx");
        yield return Real("shared", 0, "models", "ultraface_rfb320.onnx");
        yield return Real("shared", 0, "models", "msra_190729", "model.onnx");
        yield return Real("shared", 0, "models", "super-resolution-10", "model.onnx");
        yield return Real("artifact", 0, "models", "ppocrv4_det.onnx");
        yield return Real("artifact", 0, "models", "ppocrv4_rec.onnx");
        yield return Real("artifact", 0, "models", "silero_vad_v5.onnx");
    }

    public static IEnumerable<TestCaseData> CorpusModels() => OnnxCorpus.Models().Select(m => new TestCaseData(m).SetArgDisplayNames(m));

    [TestCaseSource(nameof(RealModels))]
    public void RealModel_CleanedValidInterfaceKeptAndBatchNormsFolded(string where, int unfoldable, string[] parts)
    {
        var path = where == "shared" ? TestPaths.RequireShared(parts) : TestPaths.RequireArtifact(parts);
        var model = ModelReader.Read(path);
        var inputs = model.Graph.Inputs.Select(i => i.Name).ToList();
        var outputs = model.Graph.Outputs.Select(o => o.Name).ToList();
        var bnBefore = PassChecks.Count(model, OpTypes.BatchNormalization);
        var nodesBefore = model.Graph.AllNodes().Count();

        var reports = RunCleanup(model);

        var bnAfter = PassChecks.Count(model, OpTypes.BatchNormalization);
        TestContext.Out.WriteLine($"{string.Join("/", parts)}: BatchNormalization {bnBefore} → {bnAfter}, nodes {nodesBefore} → {model.Graph.AllNodes().Count()}");
        foreach (var r in reports) TestContext.Out.WriteLine($"  {r}");
        Assert.That(bnAfter, Is.EqualTo(unfoldable), "every BatchNormalization fed by a Conv, ConvTranspose or Gemm folds");
        Assert.That(model.Graph.AllNodes().Where(IsFoldable), Is.Empty);
        Assert.That(model.Graph.Inputs.Select(i => i.Name), Is.EqualTo(inputs));
        Assert.That(model.Graph.Outputs.Select(o => o.Name), Is.EqualTo(outputs));
        PassChecks.AssertRoundTrips(model);
        Assert.That(RunCleanup(model).SelectMany(r => r.Changes), Is.Empty, "a second cleanup changes nothing");
    }

    [TestCaseSource(nameof(CorpusModels))]
    public void CorpusModel_CleanupKeepsItValid(string relativePath)
    {
        var model = ModelReader.Read(OnnxCorpus.Require(relativePath));
        var inputs = model.Graph.Inputs.Select(i => i.Name).ToList();
        var outputs = model.Graph.Outputs.Select(o => o.Name).ToList();

        RunCleanup(model);

        Assert.That(model.Graph.Inputs.Select(i => i.Name), Is.EqualTo(inputs));
        Assert.That(model.Graph.Outputs.Select(o => o.Name), Is.EqualTo(outputs));
        PassChecks.AssertRoundTrips(model);
    }

    private static IReadOnlyList<PassReport> RunCleanup(Model model)
    {
        var catalog = PassCatalog.CreateDefault();
        return new PassManager(PassCatalog.CleanupSequence.Select(id => catalog.Create(id))).Run(model);
    }

    /// <summary>A BatchNormalization the fold should have taken: fed by a Conv, ConvTranspose or Gemm with no other use.</summary>
    private static bool IsFoldable(Node node) =>
        node.OpType == OpTypes.BatchNormalization && node.Input(0) is { Uses.Count: 1, IsGraphOutput: false, Producer: { } p }
        && p.OpType is OpTypes.Conv or OpTypes.ConvTranspose or OpTypes.Gemm;

    private static TestCaseData Real(string where, int unfoldable, params string[] parts) =>
        new TestCaseData(where, unfoldable, parts).SetArgDisplayNames(string.Join("/", parts));
}
