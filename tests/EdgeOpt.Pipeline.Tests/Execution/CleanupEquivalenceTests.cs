using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Runtime;

namespace EdgeOpt.Pipeline.Tests.Execution;

/// <summary>
/// Numbers check of the exact passes on every real model: each exact pass alone, and the cleanup sequence, give the
/// original model's outputs (the exact-rewrite tier) on the same seeded inputs, with ONNX Runtime's own graph
/// optimizations off on both sides; the model file is not touched.
/// </summary>
public class CleanupEquivalenceTests
{
    private const int Seed = 11;

    /// <summary>The case name of <see cref="PassCatalog.CleanupSequence"/> run whole.</summary>
    private const string CleanupStep = "cleanup";

    private static readonly PassCatalog Catalog = PassCatalog.CreateDefault();

    public static IEnumerable<TestCaseData> Cases() =>
        from id in RealModels.Ids()
        from step in Catalog.Passes.Where(p => p.IsExact).Select(p => p.Id).Append(CleanupStep)
        select new TestCaseData(id, step);

    [TestCaseSource(nameof(Cases))]
    public void Run_CleanedModel_GivesTheOriginalOutputs(string id, string step)
    {
        var path = RealModels.Require(id);
        var digest = ExecutionTestKit.Sha256(path);
        var original = ModelReader.Read(path);
        var sample = RealModels.RandomSample(original, id, Seed);
        var cleaned = ModelReader.Read(path);
        var ids = step == CleanupStep ? PassCatalog.CleanupSequence : [step];
        new PassManager(ids.Select(p => Catalog.Create(p))).Run(cleaned);
        var settings = ExecutionTestKit.Settings(GraphOptimizationLevel.Disabled);

        using var reference = OrtModelRunner.Open(path, settings);
        using var candidate = OrtModelRunner.Open(cleaned, settings);
        var expected = reference.Run(sample);
        var actual = candidate.Run(sample);

        Assert.That(candidate.OutputNames, Is.EqualTo(reference.OutputNames), "output names and order");
        foreach (var name in reference.OutputNames)
        {
            ExecutionTestKit.AssertMatches(actual[name], expected[name], ExecutionTestKit.ExactRelativeTolerance, ExecutionTestKit.ExactAbsoluteTolerance, $"output '{name}'");
        }
        Assert.That(ExecutionTestKit.Sha256(path), Is.EqualTo(digest), "the model file changed on disk");
    }
}
