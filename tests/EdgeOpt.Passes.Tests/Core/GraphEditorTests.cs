using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Validation;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Tests.Pruning;
using EdgeOpt.TestKit;

namespace EdgeOpt.Passes.Tests.Core;

public class GraphEditorTests
{
    /// <summary>x[2, 3] → Relu → r (a graph output, also read by Neg) → Neg → z (a graph output).</summary>
    private static Model ReluRead()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 2, 3);
        var r = b.Op(OpTypes.Relu, [x], "r");
        var z = b.Op(OpTypes.Neg, [r], "z");
        return b.Outputs(r, z).Build();
    }

    [Test]
    public void InsertAfter_GraphOutputWithReaders_NewNodeCarriesTheNameAndTheUses()
    {
        _ = PruneOrt.Library;
        var model = ReluRead();
        var graph = model.Graph;
        var relu = graph.Nodes.Single(n => n.OpType == OpTypes.Relu);
        var edit = new GraphEditor(graph);

        var add = edit.InsertAfter(relu.Output(0), "bias", OpTypes.Add, [edit.Constant(relu, "bias", Tensor.Create("c", [3], new[] { 1f, 2f, 3f }))]);

        Assert.That(graph.Nodes.Select(n => n.OpType), Is.EqualTo(new[] { OpTypes.Relu, OpTypes.Add, OpTypes.Neg }), "placed right after its input's producer");
        Assert.That(graph.Outputs.Select(o => o.Name), Is.EqualTo(new[] { "r", "z" }), "the interface keeps its names");
        Assert.That(graph.Outputs[0].Producer, Is.SameAs(add));
        Assert.That(add.Input(0)!.Producer, Is.SameAs(relu));
        Assert.That(add.Input(0)!.Name, Is.Not.EqualTo("r"));
        Assert.That(graph.Nodes.Single(n => n.OpType == OpTypes.Neg).Input(0), Is.SameAs(add.Output(0)), "the other reader moved to the new node");
        Assert.DoesNotThrow(() => ModelValidator.ThrowIfInvalid(model, "test"));
        PassChecks.AssertRoundTrips(model);
        var feed = PruneOrt.Feed(model, seed: 3);
        var got = PruneOrt.Run(ModelWriter.ToBytes(model), feed);
        var x = feed["x"].Data;
        var want = x.Select((v, i) => Math.Max(v, 0f) + (i % 3 + 1)).ToArray();
        PruneOrt.AssertClose(got["r"].Data, want, 1e-6, 1e-6, "r");
        PruneOrt.AssertClose(got["z"].Data, [.. want.Select(v => -v)], 1e-6, 1e-6, "z");
    }

    [Test]
    public void InsertAfter_ValueWithoutProducer_Throws()
    {
        var model = ReluRead();
        var edit = new GraphEditor(model.Graph);

        Assert.Throws<ArgumentException>(() => edit.InsertAfter(model.Graph.Inputs[0], "bias", OpTypes.Add, []));
    }
}
