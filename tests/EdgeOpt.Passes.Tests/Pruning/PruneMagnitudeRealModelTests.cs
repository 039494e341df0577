using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Validation;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.TestKit;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary><see cref="PruneMagnitudePass"/> on a real model: the zip size falls with sparsity, sparse storage loads and runs in ONNX Runtime.</summary>
public class PruneMagnitudeRealModelTests
{
    [TestCase(0.5, false)]
    [TestCase(0.8, false)]
    [TestCase(0.9, false)]
    [TestCase(0.8, true)]
    [TestCase(0.9, true)]
    public void Ultraface_DeflatedSizeFalls_AndTheModelRuns(double sparsity, bool sparse)
    {
        var model = ModelReader.Read(TestPaths.RequireShared("models", "ultraface_rfb320.onnx"));
        var pass = new PruneMagnitudePass(new PruneMagnitudeOptions { Sparsity = sparsity, SparseStorage = sparse });

        var report = new PassManager([pass]).Run(model).Single();

        var summary = pass.LastSummary!;
        var (before, after) = (summary.Before!.Value, summary.After!.Value);
        TestContext.Out.WriteLine($"ultraface at {sparsity:P0}{(sparse ? ", sparse storage" : "")}: {before} → {after}; " +
            $"weights {summary.DenseWeightBytes:N0} B dense → {summary.StoredWeightBytes:N0} B stored ({summary.SparseTensors} sparse)");
        Assert.That(report.Changes.Count(c => c.Target != "model"), Is.GreaterThan(30));
        Assert.That(report.Skips.Count(s => s.Message.Contains("KeepFirstAndLastDense", StringComparison.Ordinal)), Is.GreaterThan(1));
        Assert.That(after.DeflatedBytes, Is.LessThan(before.DeflatedBytes * (1.05 - sparsity * 0.6)));
        if (sparse) Assert.That(after.RawBytes, Is.LessThan(before.RawBytes * 0.8));
        else Assert.That(after.RawBytes, Is.EqualTo(before.RawBytes).Within(before.RawBytes / 100));
        Assert.That(ModelValidator.Validate(model), Is.Empty);
        var outputs = PruneOrt.Run(model);
        Assert.That(outputs["scores"].Shape, Is.EqualTo(new long[] { 1, 4420, 2 }));
        Assert.That(outputs["boxes"].Data, Has.All.Matches<float>(float.IsFinite));
    }
}
