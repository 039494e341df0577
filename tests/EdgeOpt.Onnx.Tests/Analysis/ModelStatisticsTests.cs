using EdgeOpt.Onnx.Analysis;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.TestKit;

namespace EdgeOpt.Onnx.Tests.Analysis;

public class ModelStatisticsTests
{
    [Test]
    public void Mnist_MacsAndParametersCountedExactly()
    {
        var stats = ModelStatistics.Compute(ModelReader.Read(TestPaths.RequireShared("models", "mnist-8.onnx")));

        // Conv 5x5 1→8 at 28x28, Conv 5x5 8→16 at 14x14, MatMul 256→10.
        Assert.That(stats.Macs, Is.EqualTo(8L * 28 * 28 * 25 + 16L * 14 * 14 * 8 * 25 + 256 * 10));
        // weights and biases 208 + 3,216 + 2,570, plus two int64[2] reshape targets.
        Assert.That(stats.Parameters, Is.EqualTo(208 + 3216 + 2570 + 4));
        Assert.That(stats.FileBytes, Is.EqualTo(new FileInfo(TestPaths.RequireShared("models", "mnist-8.onnx")).Length));
        Assert.That(stats.Ops.First(), Is.EqualTo(KeyValuePair.Create("Add", 3)));
    }

    [TestCase("light_resnet50.onnx", 4.1e9, 0.02)]
    [TestCase("light_vgg19.onnx", 19.6e9, 0.01)]
    public void LightArchitectures_MacsMatchPublishedFigures(string file, double published, double tolerance)
    {
        var stats = ModelStatistics.Compute(ModelReader.Read(TestPaths.RequireShared("onnx-backend-tests", "light", file)));
        Assert.That(stats.Macs, Is.Not.Null);
        Assert.That((double)stats.Macs!.Value, Is.EqualTo(published).Within(tolerance * 100).Percent);
    }

    [Test]
    public void DynamicInput_MacsUnknownUntilShapeGiven()
    {
        var model = ModelReader.Read(TestPaths.RequireArtifact("models", "ppocrv4_det.onnx"));

        var dynamic = ModelStatistics.Compute(model);
        var fixedShape = ModelStatistics.Compute(model, ShapeInference.Infer(model, new ShapeInferenceOptions
        {
            InputShapes = new Dictionary<string, long[]> { ["x"] = [1, 3, 640, 640] },
        }));

        Assert.That(dynamic.Macs, Is.Null);
        Assert.That(dynamic.UnknownCostNodes, Has.Count.EqualTo(64), "all 64 Conv layers depend on the dynamic input");
        Assert.That(fixedShape.Macs, Is.GreaterThan(2_000_000_000L).And.LessThan(2_600_000_000L));
        Assert.That(fixedShape.Parameters, Is.GreaterThan(1_000_000), "weights stored as Constant nodes count as parameters");
    }

    [Test]
    public void IfWithDataDependentBranch_CountsTheCostlierBranchOnce()
    {
        var model = ModelReader.Read(TestPaths.RequireArtifact("models", "silero_vad_v5.onnx"));
        var shapes = ShapeInference.Infer(model, new ShapeInferenceOptions
        {
            InputShapes = new Dictionary<string, long[]> { ["input"] = [1, 576], ["state"] = [2, 1, 128] },
        });

        var stats = ModelStatistics.Compute(model, shapes);

        var byOp = stats.MacsByOp.ToDictionary(c => c.OpType);
        Assert.That(byOp["LSTM"].Nodes, Is.EqualTo(1), "one of the two rate-specific branches runs");
        Assert.That(byOp["LSTM"].Macs, Is.EqualTo(4L * 128 * (128 + 128)));
        Assert.That(stats.Subgraphs, Is.GreaterThan(2));
    }
}
