using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Runtime;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary>One output of a run: data and shape.</summary>
public sealed record OrtOutput(float[] Data, long[] Shape);

/// <summary>ONNX Runtime for the pruning tests: runs models (graph optimizations off) and compares outputs.</summary>
internal static class PruneOrt
{
    /// <summary>The library, or an ignored test when it is absent.</summary>
    public static OrtLibrary Library => OrtTestLibrary.Library;

    /// <summary>Runs the model on seeded inputs in [low, high) (static input shapes) and returns every graph output.</summary>
    public static Dictionary<string, OrtOutput> Run(Model model, int seed = 7, float low = -1f, float high = 1f, IReadOnlyDictionary<string, long[]>? shapes = null) =>
        Run(ModelWriter.ToBytes(model), Feed(model, seed, low, high, shapes));

    public static Dictionary<string, OrtOutput> Run(byte[] model, Dictionary<string, (float[] Data, long[] Shape)> feed, IReadOnlyList<string>? outputs = null)
    {
        var lib = Library;
        using var options = new SessionOptions(lib) { GraphOptimizationLevel = GraphOptimizationLevel.Disabled, IntraOpThreads = 1 };
        using var session = new InferenceSession(lib, model, options);
        var names = session.InputNames;
        var wanted = outputs ?? session.OutputNames;
        var values = names.Select(n => OrtValue.CreateTensor(lib, feed[n].Data, feed[n].Shape)).ToList();
        try
        {
            using var result = session.Run(names, values, wanted);
            var map = new Dictionary<string, OrtOutput>(StringComparer.Ordinal);
            for (var i = 0; i < wanted.Count; i++) map[wanted[i]] = new OrtOutput(result[i].ToArray<float>(), [.. result[i].Shape]);
            return map;
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    /// <summary>Seeded uniform inputs for every graph input (static shapes).</summary>
    public static Dictionary<string, (float[] Data, long[] Shape)> Feed(Model model, int seed, float low = -1f, float high = 1f,
        IReadOnlyDictionary<string, long[]>? shapes = null) => Quantization.QuantOrt.RandomFeed(model, seed, low, high, shapes);

    /// <summary>Both models give the same outputs (shapes and values within the exact-rewrite tolerance) on the same seeded inputs.</summary>
    public static void AssertSameOutputs(Model expected, Model actual, int seed = 7, double rtol = 1e-4, double atol = 1e-5,
        IReadOnlyDictionary<string, long[]>? shapes = null, float low = -1f, float high = 1f)
    {
        var feed = Feed(expected, seed, low, high, shapes);
        var e = Run(ModelWriter.ToBytes(expected), feed);
        var a = Run(ModelWriter.ToBytes(actual), feed);
        foreach (var (name, want) in e)
        {
            var got = a[name];
            Assert.That(got.Shape, Is.EqualTo(want.Shape), $"output '{name}' shape");
            AssertClose(got.Data, want.Data, rtol, atol, name);
        }
    }

    /// <summary>|a − e| ≤ atol + rtol·|e| everywhere.</summary>
    public static void AssertClose(float[] actual, float[] expected, double rtol, double atol, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), $"'{what}' element count");
        for (var i = 0; i < actual.Length; i++)
        {
            if (Math.Abs(actual[i] - expected[i]) > atol + rtol * Math.Abs(expected[i]))
            {
                Assert.Fail($"'{what}' element {i}: {actual[i]} vs expected {expected[i]} (rtol {rtol}, atol {atol})");
            }
        }
    }

    /// <summary>A copy of <paramref name="model"/> that also outputs the intermediates <paramref name="names"/> (typed by shape inference).</summary>
    public static Model Exposing(Model model, params string[] names)
    {
        var copy = ModelReader.Copy(model);
        var shapes = ShapeInference.Infer(copy);
        foreach (var name in names)
        {
            var v = copy.Graph.FindValue(name) ?? throw new ArgumentException($"no value '{name}'");
            v.Type = shapes.TypeOf(v) ?? v.Type;
            copy.Graph.AddOutput(v);
        }
        return copy;
    }
}
