using EdgeOpt.TestKit;

namespace EdgeOpt.Runtime.Tests;

public class InferenceSessionTests
{
    [Test]
    public void Inputs_PpocrV4Det_DescribeDynamicFloatImageWithSymbolicNames()
    {
        using var session = new InferenceSession(Ort.Library, Ort.ArtifactModel("ppocrv4_det.onnx"));

        var x = session.Inputs.Single();
        Assert.That(x.Name, Is.EqualTo("x"));
        Assert.That(x.Kind, Is.EqualTo(OnnxValueKind.Tensor));
        Assert.That(x.ElementType, Is.EqualTo(OnnxElementType.Float));
        Assert.That(x.Shape, Is.EqualTo(new long[] { -1, 3, -1, -1 }));
        Assert.That(x.SymbolicDims, Is.EqualTo(new[] { "p2o.DynamicDimension.0", null, "p2o.DynamicDimension.1", "p2o.DynamicDimension.2" }));
        Assert.That(x.HasDynamicDims, Is.True);
        Assert.That(session.Outputs.Single().Shape, Is.EqualTo(new long[] { -1, 1, -1, -1 }));
    }

    [Test]
    public void Inputs_SileroVadV5_DescribeAudioStateAndSampleRate()
    {
        using var session = new InferenceSession(Ort.Library, Ort.ArtifactModel("silero_vad_v5.onnx"));

        Assert.That(session.InputNames, Is.EqualTo(new[] { "input", "state", "sr" }));
        Assert.That(session.OutputNames, Is.EqualTo(new[] { "output", "stateN" }));
        Assert.That(session.Inputs[0].ElementType, Is.EqualTo(OnnxElementType.Float));
        Assert.That(session.Inputs[0].Shape, Is.EqualTo(new long[] { -1, -1 }));
        Assert.That(session.Inputs[1].Shape, Is.EqualTo(new long[] { 2, -1, 128 }));
        Assert.That(session.Inputs[2].ElementType, Is.EqualTo(OnnxElementType.Int64));
        Assert.That(session.Inputs[2].Shape, Is.Empty, "sr is a scalar");
        Assert.That(session.Metadata.ProducerName, Is.EqualTo("spox"));
    }

    [Test]
    public void Run_SileroVadV5_OneChunkGivesAProbabilityAndNewState()
    {
        var library = Ort.Library;
        using var session = new InferenceSession(library, Ort.ArtifactModel("silero_vad_v5.onnx"));
        using var audio = OrtValue.CreateTensor(library, new float[576], [1, 576]);
        using var state = OrtValue.CreateTensor(library, new float[2 * 128], [2, 1, 128]);
        using var sr = OrtValue.CreateTensor(library, new long[] { 16000 }, []);

        using var outputs = session.Run(new Dictionary<string, OrtValue> { ["input"] = audio, ["state"] = state, ["sr"] = sr });

        var p = outputs["output"].GetTensorData<float>()[0];
        Assert.That(p, Is.InRange(0f, 1f));
        Assert.That(outputs["stateN"].Shape, Is.EqualTo(new long[] { 2, 1, 128 }));
    }

    [Test]
    public void Metadata_TinyModel_ReadsProducerAndGraphName()
    {
        using var session = Ort.Session(TestModels.MatMulAddRelu());

        Assert.That(session.Metadata.ProducerName, Is.EqualTo("edgeopt-tests"));
        Assert.That(session.Metadata.GraphName, Is.EqualTo("tiny"));
    }

    [Test]
    public void Create_InvalidModelBytes_ThrowsOrtExceptionWithCodeAndMessage()
    {
        var garbage = "this is not an ONNX model"u8.ToArray();

        var e = Assert.Throws<OrtException>(() => new InferenceSession(Ort.Library, garbage))!;

        Assert.That(e.Code, Is.EqualTo(OrtErrorCode.InvalidProtobuf));
        Assert.That(e.NativeMessage, Is.Not.Empty);
        Assert.That(e.Message, Does.Contain("InvalidProtobuf"));
    }

    [Test]
    public void Create_MissingModelFile_ThrowsOrtException()
    {
        var e = Assert.Throws<OrtException>(() => new InferenceSession(Ort.Library, "/no/such/model.onnx"))!;

        Assert.That(e.Code, Is.EqualTo(OrtErrorCode.NoSuchFile));
    }

    [Test]
    public void Run_UnknownInputName_ThrowsListingTheModelsInputs()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.MatMulAddRelu());
        using var x = OrtValue.CreateTensor(library, new float[4], [1, 4]);

        var e = Assert.Throws<ArgumentException>(() => session.Run(new Dictionary<string, OrtValue> { ["X"] = x }))!;

        Assert.That(e.Message, Does.Contain("no input named 'X'").And.Contain("'x'"));
    }

    [Test]
    public void Run_WrongShape_ThrowsOrtExceptionWithInvalidArgument()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.MatMulAddRelu());
        using var x = OrtValue.CreateTensor(library, new float[5], [1, 5]);

        var e = Assert.Throws<OrtException>(() => session.Run(new Dictionary<string, OrtValue> { ["x"] = x }))!;

        Assert.That(e.Code, Is.EqualTo(OrtErrorCode.InvalidArgument));
    }

    [Test]
    public void Run_SelectedOutput_ReturnsOnlyIt()
    {
        var library = Ort.Library;
        using var session = new InferenceSession(library, Ort.ArtifactModel("silero_vad_v5.onnx"));
        using var audio = OrtValue.CreateTensor(library, new float[576], [1, 576]);
        using var state = OrtValue.CreateTensor(library, new float[256], [2, 1, 128]);
        using var sr = OrtValue.CreateTensor(library, new long[] { 16000 }, []);

        using var outputs = session.Run(["input", "state", "sr"], [audio, state, sr], ["stateN"]);

        Assert.That(outputs.Names, Is.EqualTo(new[] { "stateN" }));
        Assert.That(outputs, Has.Count.EqualTo(1));
    }

    [Test]
    public void Run_FourThreadsOnOneSession_GiveIdenticalResults()
    {
        var library = Ort.Library;
        using var options = new SessionOptions(library) { IntraOpThreads = 1 };
        using var session = new InferenceSession(library, Ort.ArtifactModel("ppocrv4_det.onnx"), options);
        var input = Ort.Random(3 * 64 * 64, seed: 7);
        float[] RunOnce()
        {
            using var x = OrtValue.CreateTensor<float>(library, input, [1, 3, 64, 64]);
            using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });
            return outputs[0].ToArray<float>();
        }
        var reference = RunOnce();

        var results = new float[4][][];
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            results[t] = [.. Enumerable.Range(0, 10).Select(_ => RunOnce())];
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.That(reference, Has.Length.EqualTo(64 * 64));
        foreach (var perThread in results)
        {
            foreach (var r in perThread) Assert.That(r, Is.EqualTo(reference));
        }
    }

    [Test]
    public void Run_OptimizationsDisabledVersusAll_GiveTheSameOutputs()
    {
        var library = Ort.Library;
        var model = Ort.ArtifactModel("ppocrv4_det.onnx");
        var input = Ort.Random(3 * 64 * 96, seed: 3);
        float[] RunWith(GraphOptimizationLevel level)
        {
            using var options = new SessionOptions(library) { GraphOptimizationLevel = level };
            using var session = new InferenceSession(library, model, options);
            using var x = OrtValue.CreateTensor<float>(library, input, [1, 3, 64, 96]);
            using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });
            return outputs[0].ToArray<float>();
        }

        var disabled = RunWith(GraphOptimizationLevel.Disabled);
        var all = RunWith(GraphOptimizationLevel.All);

        Ort.AssertClose(all, disabled);
    }

    [Test]
    public void Run_RealModelWithStoredOutput_MatchesIt()
    {
        var library = Ort.Library;
        var folder = TestPaths.RequireShared("models", "msra_190729");
        using var session = new InferenceSession(library, Path.Combine(folder, "model.onnx"));
        var input = EdgeOpt.Onnx.IO.TensorFiles.Read(Path.Combine(folder, "test_data_set_0", "input_0.pb"));
        var expected = EdgeOpt.Onnx.IO.TensorFiles.Read(Path.Combine(folder, "test_data_set_0", "output_0.pb"));
        using var x = OrtValue.CreateTensor(library, input.AsSpan<float>(), input.DimsArray());

        using var outputs = session.Run(new Dictionary<string, OrtValue> { [session.InputNames[0]] = x });

        Assert.That(outputs[0].Shape, Is.EqualTo(expected.Dims));
        Ort.AssertClose(outputs[0].GetTensorData<float>(), expected.AsSpan<float>());
    }

    [Test]
    public void Dispose_Twice_IsHarmlessAndRunAfterwardsThrows()
    {
        var library = Ort.Library;
        var session = Ort.Session(TestModels.MatMulAddRelu());
        using var x = OrtValue.CreateTensor(library, new float[4], [1, 4]);

        session.Dispose();
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run(new Dictionary<string, OrtValue> { ["x"] = x }));
    }

    [Test]
    public void EndProfiling_WithoutProfiling_Throws()
    {
        using var session = Ort.Session(TestModels.MatMulAddRelu());

        Assert.Throws<InvalidOperationException>(() => session.EndProfiling());
    }
}
