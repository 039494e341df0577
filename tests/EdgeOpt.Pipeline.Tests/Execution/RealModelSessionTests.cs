using EdgeOpt.Onnx.IO;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.TestKit;

namespace EdgeOpt.Pipeline.Tests.Execution;

/// <summary>Every real model opened and run through the pipeline's bridge.</summary>
public class RealModelSessionTests
{
    private const int Seed = 2024;

    /// <summary>The bound the brief sets for msra_190729 against its stored output (PROVENANCE measures 1.8e-7).</summary>
    private const double StoredOutputTolerance = 1e-5;

    private const string ModelsFolder = "models";
    private const string MsraFolder = "msra_190729";
    private const string ModelFile = "model.onnx";

    public static IEnumerable<string> Models() => RealModels.Ids();

    [TestCaseSource(nameof(Models))]
    public void Run_RealModelOnSeededInputs_GivesEveryDeclaredOutputFinite(string id)
    {
        var path = RealModels.Require(id);
        var model = ModelReader.Read(path);
        using var runner = OrtModelRunner.Open(path, ExecutionTestKit.Settings());

        var outputs = runner.Run(RealModels.RandomSample(model, id, Seed));

        Assert.That(outputs.Keys, Is.EquivalentTo(model.Graph.Outputs.Select(o => o.Name)), "one output per declared output");
        foreach (var (name, tensor) in outputs)
        {
            Assert.That(tensor.ElementCount, Is.Positive, $"output '{name}' is empty");
            Assert.That(ExecutionTestKit.NonFiniteCount(tensor), Is.Zero, $"output '{name}' has NaN or infinite elements");
        }
    }

    [Test]
    public void Run_Msra190729StoredInput_MatchesTheStoredOutput()
    {
        var folder = TestPaths.RequireShared(ModelsFolder, MsraFolder);
        var model = ModelReader.Read(Path.Combine(folder, ModelFile));
        var samples = TestDataSets.Load(folder, RealModels.FedInputs(model), model.Graph.Outputs);
        using var runner = OrtModelRunner.Open(Path.Combine(folder, ModelFile), ExecutionTestKit.Settings());

        Assert.That(samples, Is.Not.Empty);
        foreach (var sample in samples)
        {
            var outputs = runner.Run(sample);

            Assert.That(sample.ExpectedOutputs.Keys, Is.EquivalentTo(outputs.Keys), $"{sample.Source}: stored outputs");
            foreach (var (name, expected) in sample.ExpectedOutputs)
            {
                ExecutionTestKit.AssertMatches(outputs[name], expected, 0, StoredOutputTolerance, $"{sample.Source}: output '{name}'");
            }
        }
    }
}
