using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Proto;
using EdgeOpt.Onnx.Validation;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;
using EdgeOpt.TestKit;
using Google.Protobuf;

namespace EdgeOpt.Passes.Tests.Cleanup;

public class RemoveInitializerInputsPassTests
{
    private static readonly RemoveInitializerInputsPass Pass = new();

    /// <summary>An IR 3 model listing its initializers w and b as graph inputs, as old exporters wrote them.</summary>
    private static Model InitializersAsInputs()
    {
        var b = new GraphBuilder();
        var x = b.Input("x", 1, 4);
        var mm = b.Op(OpTypes.MatMul, [x, b.Weight("w", 1, 4, 3)], "mm");
        var model = b.Outputs(b.Op(OpTypes.Add, [mm, b.Weight("b", 2, 3)], "y")).Build(8);
        model.IrVersion = 3;
        var proto = ModelProto.Parser.ParseFrom(ModelWriter.ToBytes(model));
        proto.Graph.Input.Add(new ValueInfoProto { Name = "w" });
        proto.Graph.Input.Add(new ValueInfoProto { Name = "b" });
        return ModelReader.Read(new MemoryStream(proto.ToByteArray()));
    }

    [Test]
    public void InitializersListedAsInputs_DroppedAndCounted()
    {
        var model = InitializersAsInputs();
        Assert.That(model.Graph.Inputs.Select(i => i.Name), Is.EqualTo(new[] { "x", "w", "b" }), "precondition");

        var report = Pass.Run(model, PassContext.Default);

        Assert.That(model.Graph.Inputs.Select(i => i.Name), Is.EqualTo(new[] { "x" }));
        Assert.That(model.Graph.Initializers.Select(i => i.Name), Is.EqualTo(new[] { "w", "b" }), "the initializers stay");
        Assert.That(model.Graph.FindValue("w")!.IsConstant, Is.True, "the weight is now a constant");
        Assert.That(model.IrVersion, Is.EqualTo(4));
        Assert.That(report.Changes.Select(c => c.Target), Is.EqualTo(new[] { "input 'w'", "input 'b'", "model", "graph inputs" }));
        Assert.That(report.Changes[^1].Message, Does.StartWith("2 of 3 dropped"));
        ModelValidator.ThrowIfInvalid(model, "test");
        PassChecks.AssertRoundTrips(model);
    }

    [Test]
    public void NoInitializerInputs_NothingChanges()
    {
        var model = TinyModels.MatMulAddRelu();
        var before = ModelWriter.ToBytes(model);

        var report = Pass.Run(model, PassContext.Default);

        Assert.That(report.Changed, Is.False);
        Assert.That(ModelWriter.ToBytes(model), Is.EqualTo(before));
    }

    [Test]
    public void SecondRun_ChangesNothing() => PassChecks.AssertIdempotent(Pass, InitializersAsInputs());

    [Test]
    public void FreshCopies_GiveByteIdenticalOutput() => PassChecks.AssertDeterministic(Pass, InitializersAsInputs);

    [Test]
    public void Mnist8_KeepsOnlyTheImageInput()
    {
        var model = ModelReader.Read(TestPaths.RequireShared("models", "mnist-8.onnx"));

        var report = Pass.Run(model, PassContext.Default);

        TestContext.Out.WriteLine(report.Changes[^1]);
        Assert.That(model.Graph.Inputs.Select(i => i.Name), Is.EqualTo(new[] { "Input3" }));
        Assert.That(model.Graph.Outputs.Select(o => o.Name), Is.EqualTo(new[] { "Plus214_Output_0" }));
        Assert.That(report.Changes[^1].Message, Does.StartWith("8 of 9 dropped"));
        PassChecks.AssertRoundTrips(model);
    }
}
