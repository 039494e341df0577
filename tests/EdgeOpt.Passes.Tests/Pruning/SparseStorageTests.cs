using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Shapes;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.TestKit;
using static EdgeOpt.Passes.Tests.Pruning.PruneModels;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary>Pruned weights as ONNX sparse initializers: round trip, when they are used, and that ONNX Runtime loads them.</summary>
public class SparseStorageTests
{
    private static PruneMagnitudeOptions Options(double sparsity, bool sparse) =>
        new() { Sparsity = sparsity, KeepFirstAndLastDense = false, MinElements = 0, MeasureSize = false, SparseStorage = sparse };

    [Test]
    public void FromDenseToDense_RoundTripsBitForBit()
    {
        var data = new float[] { 0, 1.5f, 0, -2, 0, 0, 3, -0f };
        var dense = Tensor.Create("w", [2, 4], data);

        var sparse = SparseStorage.FromDense(dense);

        Assert.That(sparse.Values.ToArray<float>(), Is.EqualTo(new[] { 1.5f, -2, 3 }));
        Assert.That(sparse.Indices.ToArray<long>(), Is.EqualTo(new long[] { 1, 3, 6 }));
        Assert.That(sparse.Indices.DataType, Is.EqualTo(TensorDataType.Int64));
        Assert.That(SparseStorage.ToDense(sparse).ToArray<float>(), Is.EqualTo(data));
    }

    [Test]
    public void ToDense_ReadsCoordinateIndices()
    {
        var sparse = new SparseTensor(Tensor.Create("w", [2], new[] { 5f, 7f }), Tensor.Create("", [2, 2], new long[] { 0, 1, 1, 2 }), [2, 3]);

        Assert.That(SparseStorage.ToDense(sparse).ToArray<float>(), Is.EqualTo(new[] { 0f, 5, 0, 0, 0, 7 }));
    }

    [Test]
    public void HighSparsity_StoresSparse_AndSurvivesWriteAndRead()
    {
        var dense = GemmChain(3, 32);
        var sparse = GemmChain(3, 32);
        new PruneMagnitudePass(Options(0.8, false)).Run(dense, PassContext.Default);
        var pass = new PruneMagnitudePass(Options(0.8, true));

        var report = PassChecks.RunAndCheck(pass, sparse);
        var reread = ModelReader.Read(new MemoryStream(ModelWriter.ToBytes(sparse)));

        Assert.That(reread.Graph.Initializers, Is.Empty);
        Assert.That(reread.Graph.SparseInitializers, Has.Count.EqualTo(3));
        foreach (var v in reread.Graph.SparseInitializers)
        {
            var expected = dense.Graph.FindValue(v.Name)!.Initializer!;
            Assert.That(SparseStorage.ToDense(v.SparseInitializer!).RawData.ToArray(), Is.EqualTo(expected.RawData.ToArray()), v.Name);
        }
        Assert.That(pass.LastSummary!.StoredWeightBytes, Is.EqualTo(3 * 205 * 12));
        Assert.That(pass.LastSummary.SparseTensors, Is.EqualTo(3));
        Assert.That(report.Changes.Single(c => c.Target == "g0_node (Gemm)").Message, Does.Contain("stored sparse: 4.0 KiB → 2.4 KiB"));
    }

    [Test]
    public void HalfSparsity_StaysDense_WhenSparseWouldBeLarger()
    {
        var model = GemmChain(2, 32);

        var report = new PruneMagnitudePass(Options(0.5, true)).Run(model, PassContext.Default);

        Assert.That(model.Graph.SparseInitializers, Is.Empty);
        Assert.That(report.Changes.First().Message, Does.Contain("kept dense (4.0 KiB; sparse would take 6.0 KiB)"));
    }

    [Test]
    public void ShapeInference_SeesSparseInitializers()
    {
        var model = GemmChain(2, 32);
        new PruneMagnitudePass(Options(0.9, true)).Run(model, PassContext.Default);

        var shapes = ShapeInference.Infer(model);

        Assert.That(shapes.StaticShapeOf(model.Graph.FindValue("w0")), Is.EqualTo(new long[] { 32, 32 }));
        Assert.That(shapes.StaticShapeOf(model.Graph.Outputs[0]), Is.EqualTo(new long[] { 1, 32 }));
    }

    [Test]
    public void OldIrVersion_IsRaisedToSix()
    {
        var model = GemmChain(2, 32);
        model.IrVersion = 4;

        var report = new PruneMagnitudePass(Options(0.9, true)).Run(model, PassContext.Default);

        Assert.That(model.IrVersion, Is.EqualTo(PruneMagnitudePass.SparseInitializerIrVersion));
        Assert.That(report.Changes.Single(c => c.Target == "model" && c.Message.StartsWith("ir_version", StringComparison.Ordinal)).Message, Does.Contain("4 → 6"));
    }

    [Test]
    public void OnnxRuntime_LoadsSparseInitializers_WithTheDenseResults()
    {
        var dense = GemmChain(3, 32);
        new PruneMagnitudePass(Options(0.9, false)).Run(dense, PassContext.Default);
        var sparse = ModelReader.Copy(dense);
        foreach (var v in sparse.Graph.Initializers.ToList()) sparse.Graph.MakeSparseInitializer(v, SparseStorage.FromDense(v.Initializer!));

        PruneOrt.AssertSameOutputs(dense, sparse, rtol: 0, atol: 0);
    }

    [Test]
    public void OnnxRuntime_LoadsCoordinateIndices()
    {
        var dense = GemmChain(1, 32);
        new PruneMagnitudePass(Options(0.9, false)).Run(dense, PassContext.Default);
        var coo = ModelReader.Copy(dense);
        var w = coo.Graph.Initializers.Single();
        var linear = SparseStorage.FromDense(w.Initializer!);
        var coordinates = linear.Indices.ToArray<long>().SelectMany(i => new[] { i / 32, i % 32 }).ToArray();
        coo.Graph.MakeSparseInitializer(w, new SparseTensor(linear.Values, Tensor.Create("", [linear.Values.ElementCount, 2], coordinates), [32, 32]));

        PruneOrt.AssertSameOutputs(dense, coo, rtol: 0, atol: 0);
    }

    [Test]
    public void MakeSparseInitializer_RefusesAMismatch()
    {
        var model = GemmChain(1, 32);
        var w = model.Graph.Initializers.Single();
        var other = SparseStorage.FromDense(Tensor.Create("x", [4, 4], new float[16]));

        Assert.Throws<ArgumentException>(() => model.Graph.MakeSparseInitializer(w, other));
        Assert.Throws<InvalidOperationException>(() => model.Graph.MakeSparseInitializer(model.Graph.Inputs[0], other));
    }

    [Test]
    public void Deflate_ShrinksWithSparsity()
    {
        var sizes = new[] { 0.0, 0.5, 0.8 }.Select(s =>
        {
            var model = GemmChain(3, 64);
            new PruneMagnitudePass(Options(s, false)).Run(model, PassContext.Default);
            return ModelSize.Measure(model);
        }).ToList();

        Assert.That(sizes.Select(s => s.RawBytes).Distinct().Count(), Is.EqualTo(1), "dense storage keeps the raw size");
        Assert.That(sizes.Select(s => s.DeflatedBytes), Is.Ordered.Descending);
        Assert.That(sizes[2].DeflatedBytes, Is.LessThan(sizes[0].DeflatedBytes * 0.4));
        Assert.That(ModelSize.Measure(GemmChain(3, 64)), Is.EqualTo(sizes[0]), "measuring is deterministic");
    }
}
