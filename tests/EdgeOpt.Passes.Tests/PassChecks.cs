using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Validation;
using EdgeOpt.Passes.Core;
using EdgeOpt.TestKit;

namespace EdgeOpt.Passes.Tests;

/// <summary>The structural checks every exact rewrite gets: valid, same interface, lossless write/read, idempotent, deterministic.</summary>
public static class PassChecks
{
    /// <summary>Runs <paramref name="pass"/> on <paramref name="model"/> and checks validity, interface names and the write/read round trip.</summary>
    public static PassReport RunAndCheck(IPass pass, Model model)
    {
        var inputs = Names(model.Graph.Inputs);
        var outputs = Names(model.Graph.Outputs);
        var report = pass.Run(model, PassContext.Default);
        Assert.That(model.Graph.SortTopologically(), Is.Empty, "the rewritten graph has a cycle");
        Assert.DoesNotThrow(() => ModelValidator.ThrowIfInvalid(model, pass.Id), "the rewritten model is invalid");
        Assert.That(Names(model.Graph.Inputs), Is.EqualTo(inputs), "graph input names changed");
        Assert.That(Names(model.Graph.Outputs), Is.EqualTo(outputs), "graph output names changed");
        AssertRoundTrips(model);
        return report;
    }

    /// <summary>Writing, reading back and writing again gives the same bytes.</summary>
    public static void AssertRoundTrips(Model model)
    {
        var bytes = ModelWriter.ToBytes(model);
        var reread = ModelReader.Read(new MemoryStream(bytes));
        Assert.That(ModelWriter.ToBytes(reread), Is.EqualTo(bytes), "the model does not survive a write/read round trip");
    }

    /// <summary>A second run changes nothing.</summary>
    public static void AssertIdempotent(IPass pass, Model model)
    {
        pass.Run(model, PassContext.Default);
        var before = ModelWriter.ToBytes(model);
        var second = pass.Run(model, PassContext.Default);
        Assert.That(second.Changes, Is.Empty, "a second run reported changes");
        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before), "a second run changed the model");
    }

    /// <summary>Two runs on fresh copies give byte-identical output.</summary>
    public static void AssertDeterministic(IPass pass, Func<Model> build)
    {
        var a = build();
        var b = build();
        pass.Run(a, PassContext.Default);
        pass.Run(b, PassContext.Default);
        Assert.That(ModelWriter.ToBytes(a), Is.EqualTo(ModelWriter.ToBytes(b)));
    }

    /// <summary>Runs both models on the same seeded inputs and compares every output within the exact-rewrite tolerance.</summary>
    public static void AssertSameOutputs(Model original, Model rewritten, int seed = 7, double rtol = 1e-4, double atol = 1e-5)
    {
        var inputs = new Dictionary<string, NdArray>();
        var s = seed;
        foreach (var input in original.Graph.Inputs.Where(i => !i.IsInitializer))
        {
            var dims = input.TensorType?.StaticShape ?? throw new ArgumentException($"input '{input.Name}' needs a static shape");
            inputs[input.Name] = NdArray.Random(s++, dims);
        }
        var expected = ReferenceEvaluator.Run(original, inputs);
        var actual = ReferenceEvaluator.Run(rewritten, inputs);
        foreach (var (name, value) in expected)
        {
            Assert.That(ReferenceEvaluator.AllClose(actual[name], value, rtol, atol, out var message), Is.True, $"output '{name}': {message}");
        }
    }

    /// <summary>How many nodes of <paramref name="opType"/> the model has, subgraphs included.</summary>
    public static int Count(Model model, string opType) => model.Graph.AllNodes().Count(n => n.OpType == opType);

    private static List<string> Names(IEnumerable<Value> values) => [.. values.Select(v => v.Name)];
}
