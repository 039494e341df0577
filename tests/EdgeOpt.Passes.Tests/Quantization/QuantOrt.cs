using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Runtime;

namespace EdgeOpt.Passes.Tests.Quantization;

/// <summary>Named float inputs of one run: data and shape per input.</summary>
public sealed class Feed : Dictionary<string, (float[] Data, long[] Shape)>
{
    public Feed() : base(StringComparer.Ordinal) { }
}

/// <summary>ONNX Runtime for the quantization tests: runs models, calibrates by exposing every float tensor, compares outputs.</summary>
internal static class QuantOrt
{
    /// <summary>The library, or an ignored test when it is absent.</summary>
    public static OrtLibrary Library => OrtTestLibrary.Library;

    /// <summary>Runs <paramref name="model"/> on <paramref name="feed"/> and returns the named outputs (all graph outputs by default).</summary>
    public static Dictionary<string, float[]> Run(Model model, Feed feed, GraphOptimizationLevel level = GraphOptimizationLevel.Disabled, IReadOnlyList<string>? outputs = null) =>
        Run(ModelWriter.ToBytes(model), feed, level, outputs);

    public static Dictionary<string, float[]> Run(byte[] model, Feed feed, GraphOptimizationLevel level = GraphOptimizationLevel.Disabled, IReadOnlyList<string>? outputs = null)
    {
        var lib = Library;
        using var options = new SessionOptions(lib) { GraphOptimizationLevel = level, IntraOpThreads = 1 };
        using var session = new InferenceSession(lib, model, options);
        return Run(session, feed, outputs ?? session.OutputNames);
    }

    private static Dictionary<string, float[]> Run(InferenceSession session, Feed feed, IReadOnlyList<string> outputs)
    {
        var names = session.InputNames;
        var values = names.Select(n => OrtValue.CreateTensor(Library, feed[n].Data, feed[n].Shape)).ToList();
        try
        {
            using var result = session.Run(names, values, outputs);
            var map = new Dictionary<string, float[]>(StringComparer.Ordinal);
            for (var i = 0; i < outputs.Count; i++) map[outputs[i]] = result[i].ToArray<float>();
            return map;
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    /// <summary>Op types of the graph ONNX Runtime runs after its own optimizations (shows which QDQ groups it fused).</summary>
    public static List<string> OptimizedOpTypes(Model model)
    {
        var lib = Library;
        var path = Path.Combine(Path.GetTempPath(), $"edgeopt-quant-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var options = new SessionOptions(lib) { GraphOptimizationLevel = GraphOptimizationLevel.All, OptimizedModelPath = path, IntraOpThreads = 1 })
            using (new InferenceSession(lib, ModelWriter.ToBytes(model), options)) { }
            return [.. ModelReader.Read(path).Graph.Nodes.Select(n => n.OpType)];
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// A min/max calibration table: runs <paramref name="model"/> on <paramref name="feeds"/> with every float tensor exposed as an
    /// output (graph inputs included) and records each tensor's range.
    /// </summary>
    public static CalibrationTable Calibrate(Model model, IReadOnlyList<Feed> feeds)
    {
        var copy = ModelReader.Read(new MemoryStream(ModelWriter.ToBytes(model)));
        var shapes = ShapeInference.Infer(copy, new ShapeInferenceOptions { InputShapes = feeds[0].ToDictionary(kv => kv.Key, kv => kv.Value.Shape) });
        var graph = copy.Graph;
        var exposed = new List<string>();
        foreach (var v in graph.Nodes.SelectMany(n => n.Outputs).OfType<Value>())
        {
            var type = shapes.TypeOf(v) ?? v.TensorType;
            if (type?.ElementType != TensorDataType.Float) continue;
            if (!v.IsGraphOutput)
            {
                v.Type = type;
                graph.AddOutput(v);
            }
            exposed.Add(v.Name);
        }
        var ranges = new Dictionary<string, TensorRange>(StringComparer.Ordinal);
        void Widen(string name, float[] data)
        {
            var r = QuantMath.RangeOf(data);
            ranges[name] = ranges.TryGetValue(name, out var old) ? new TensorRange(MathF.Min(old.Min, r.Min), MathF.Max(old.Max, r.Max)) : r;
        }
        var bytes = ModelWriter.ToBytes(copy);
        foreach (var feed in feeds)
        {
            foreach (var (name, value) in Run(bytes, feed, GraphOptimizationLevel.Disabled, exposed)) Widen(name, value);
            foreach (var (name, (data, _)) in feed) Widen(name, data);
        }
        return new CalibrationTable("minmax", feeds.Count, ranges);
    }

    /// <summary>Seeded inputs for every graph input: uniform in [<paramref name="low"/>, <paramref name="high"/>), shapes from the model or <paramref name="shapes"/>.</summary>
    public static Feed RandomFeed(Model model, int seed, float low = -1f, float high = 1f, IReadOnlyDictionary<string, long[]>? shapes = null)
    {
        var feed = new Feed();
        var random = new Random(seed);
        foreach (var input in model.Graph.Inputs.Where(i => !i.IsInitializer))
        {
            var shape = shapes?.GetValueOrDefault(input.Name) ?? input.TensorType?.StaticShape
                ?? throw new ArgumentException($"input '{input.Name}' has no static shape; pass one");
            var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (var i = 0; i < data.Length; i++) data[i] = low + (float)random.NextDouble() * (high - low);
            feed[input.Name] = (data, shape);
        }
        return feed;
    }

    /// <summary>Cosine similarity of two vectors (1 when both are zero).</summary>
    public static double Cosine(float[] a, float[] b)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length), "output lengths differ");
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return na == 0 && nb == 0 ? 1 : dot / Math.Sqrt(na * nb);
    }

    /// <summary>The lowest cosine over every output of both models on the feeds (float model without optimizations; quantized at <paramref name="level"/>).</summary>
    public static double MinCosine(Model reference, Model quantized, IEnumerable<Feed> feeds, GraphOptimizationLevel level)
    {
        var expectedBytes = ModelWriter.ToBytes(reference);
        var actualBytes = ModelWriter.ToBytes(quantized);
        var worst = 1.0;
        foreach (var feed in feeds)
        {
            var expected = Run(expectedBytes, feed);
            var actual = Run(actualBytes, feed, level);
            foreach (var (name, e) in expected) worst = Math.Min(worst, Cosine(e, actual[name]));
        }
        return worst;
    }
}
