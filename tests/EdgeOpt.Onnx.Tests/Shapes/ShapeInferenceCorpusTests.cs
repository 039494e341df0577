using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.TestKit;

namespace EdgeOpt.Onnx.Tests.Shapes;

/// <summary>
/// Inferred output shapes against the reference outputs of the ONNX backend tests: with the inputs' real shapes fed
/// in and the shapes the models declare for node outputs removed, every output shape the inference decides must
/// equal the shape of the expected output tensor.
/// </summary>
public class ShapeInferenceCorpusTests
{
    [Test]
    public void BackendCorpus_DecidedOutputShapesMatchReferenceOutputs()
    {
        var root = Path.Combine(TestPaths.SharedDir, "onnx-backend-tests");
        if (!Directory.Exists(root)) Assert.Ignore("the ONNX backend corpus (../shared/onnx-backend-tests) is absent");
        int cases = 0, decided = 0;
        var mismatches = new List<string>();
        foreach (var modelPath in Directory.EnumerateFiles(root, "model.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var data = Path.Combine(Path.GetDirectoryName(modelPath)!, "test_data_set_0");
            if (!Directory.Exists(data)) continue;
            var model = ModelReader.Read(modelPath);
            ShapeInferenceTests.ForgetDeclaredShapes(model);
            var inputs = model.Graph.Inputs.Where(i => i.Initializer == null).ToList();
            var shapes = new Dictionary<string, long[]>();
            for (var i = 0; i < inputs.Count; i++)
            {
                var file = Path.Combine(data, $"input_{i}.pb");
                if (File.Exists(file) && inputs[i].TensorType != null) shapes[inputs[i].Name] = TensorFiles.Read(file).DimsArray();
            }
            ShapeInferenceResult result;
            try
            {
                result = ShapeInference.Infer(model, new ShapeInferenceOptions { InputShapes = shapes });
            }
            catch (ArgumentException)
            {
                continue;
            }
            cases++;
            for (var o = 0; o < model.Graph.Outputs.Count; o++)
            {
                var expectedFile = Path.Combine(data, $"output_{o}.pb");
                if (!File.Exists(expectedFile) || result.StaticShapeOf(model.Graph.Outputs[o]) is not { } inferred) continue;
                var expected = TensorFiles.Read(expectedFile).DimsArray();
                decided++;
                if (!inferred.SequenceEqual(expected))
                {
                    mismatches.Add($"{Path.GetRelativePath(root, modelPath)} output {o}: inferred [{string.Join(",", inferred)}], reference [{string.Join(",", expected)}]");
                }
            }
        }
        TestContext.Out.WriteLine($"{cases} cases, {decided} output shapes decided and compared");
        Assert.Multiple(() =>
        {
            Assert.That(mismatches, Is.Empty, string.Join("\n", mismatches.Take(40)));
            Assert.That(decided, Is.GreaterThan(1300), "the inference should decide most reference outputs");
        });
    }
}
