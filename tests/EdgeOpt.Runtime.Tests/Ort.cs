using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.TestKit;

namespace EdgeOpt.Runtime.Tests;

/// <summary>The ONNX Runtime library for tests (an ignored test when it is absent), and model helpers.</summary>
internal static class Ort
{
    /// <summary>The library found by the default search, or an ignored test with the reason.</summary>
    public static OrtLibrary Library
    {
        get
        {
            try
            {
                return OrtLibrary.Load();
            }
            catch (OrtLibraryNotFoundException e)
            {
                Assert.Ignore($"ONNX Runtime is absent: {e.Message}");
                throw;
            }
        }
    }

    /// <summary>A model fetched by the build into artifacts/models, or an ignored test.</summary>
    public static string ArtifactModel(string file) => TestPaths.RequireArtifact("models", file);

    /// <summary>The serialized bytes of an IR model.</summary>
    public static byte[] Bytes(Model model) => ModelWriter.ToBytes(model);

    /// <summary>A session over an IR model, with the given optimization level.</summary>
    public static InferenceSession Session(Model model, GraphOptimizationLevel level = GraphOptimizationLevel.All)
    {
        using var options = new SessionOptions(Library) { GraphOptimizationLevel = level };
        return new InferenceSession(Library, Bytes(model), options);
    }

    /// <summary>Seeded uniform floats in [0, 1).</summary>
    public static float[] Random(int count, int seed)
    {
        var r = new Random(seed);
        var data = new float[count];
        for (var i = 0; i < count; i++) data[i] = (float)r.NextDouble();
        return data;
    }

    /// <summary>|a - e| ≤ atol + rtol·|e| for every element (the exact-rewrite tier).</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double rtol = 1e-4, double atol = 1e-5)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), "element count");
        for (var i = 0; i < actual.Length; i++)
        {
            if (Math.Abs(actual[i] - expected[i]) > atol + rtol * Math.Abs(expected[i]))
            {
                Assert.Fail($"element {i}: {actual[i]} vs expected {expected[i]} (rtol {rtol}, atol {atol})");
            }
        }
    }
}
