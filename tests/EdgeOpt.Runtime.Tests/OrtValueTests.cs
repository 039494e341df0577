using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Runtime.Tests;

public class OrtValueTests
{
    [Test]
    public void CreateTensor_EveryNumericType_RoundTripsThroughIdentity()
    {
        RoundTrip(TensorDataType.Float, new[] { 1.5f, -2f, 0f, float.MaxValue, float.Epsilon, -0.25f });
        RoundTrip(TensorDataType.Double, new[] { 1.5, -2, 0, double.MaxValue, double.Epsilon, Math.PI });
        RoundTrip(TensorDataType.Float16, new[] { (Half)1.5f, (Half)(-2f), Half.Zero, Half.MaxValue, Half.Epsilon, (Half)0.1f });
        RoundTrip(TensorDataType.Int8, new sbyte[] { 1, -2, 0, sbyte.MaxValue, sbyte.MinValue, 7 });
        RoundTrip(TensorDataType.UInt8, new byte[] { 1, 2, 0, byte.MaxValue, 128, 7 });
        RoundTrip(TensorDataType.Int16, new short[] { 1, -2, 0, short.MaxValue, short.MinValue, 7 });
        RoundTrip(TensorDataType.UInt16, new ushort[] { 1, 2, 0, ushort.MaxValue, 32768, 7 });
        RoundTrip(TensorDataType.Int32, new[] { 1, -2, 0, int.MaxValue, int.MinValue, 7 });
        RoundTrip(TensorDataType.UInt32, new uint[] { 1, 2, 0, uint.MaxValue, 1u << 31, 7 });
        RoundTrip(TensorDataType.Int64, new[] { 1, -2, 0, long.MaxValue, long.MinValue, 7 });
        RoundTrip(TensorDataType.UInt64, new ulong[] { 1, 2, 0, ulong.MaxValue, 1ul << 63, 7 });
        RoundTrip(TensorDataType.Bool, new[] { true, false, false, true, true, false });
    }

    [Test]
    public void CreateStringTensor_RoundTripsThroughIdentity()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.Identity(TensorDataType.String, 2, 2));
        string[] strings = ["hello", "", "Grüße, 世界", "a\u0000b"];
        using var x = OrtValue.CreateStringTensor(library, strings, [2, 2]);

        using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });

        Assert.That(outputs[0].ElementType, Is.EqualTo(OnnxElementType.String));
        Assert.That(outputs[0].Shape, Is.EqualTo(new long[] { 2, 2 }));
        Assert.That(outputs[0].GetStrings(), Is.EqualTo(new[] { "hello", "", "Grüße, 世界", "a" }),
            "strings cross the C API null-terminated, so an embedded NUL ends the element");
        Assert.That(x.GetStrings()[2], Is.EqualTo("Grüße, 世界"));
    }

    [Test]
    public void CreateTensor_OverAnArray_SharesItsMemory()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.Identity(TensorDataType.Float, 3));
        var data = new float[] { 1, 2, 3 };
        using var x = OrtValue.CreateTensor(library, data, [3]);

        data[1] = 42;
        using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });

        Assert.That(outputs[0].ToArray<float>(), Is.EqualTo(new float[] { 1, 42, 3 }));
        Assert.That(x.GetTensorData<float>()[1], Is.EqualTo(42));
    }

    [Test]
    public void CreateTensor_FromRawBytes_KeepsTheElementType()
    {
        var library = Ort.Library;
        var halves = new[] { (Half)1, (Half)(-0.5f), (Half)3 };
        var raw = System.Runtime.InteropServices.MemoryMarshal.AsBytes(halves.AsSpan());

        using var value = OrtValue.CreateTensor(library, OnnxElementType.Float16, raw, [3, 1]);

        Assert.That(value.ElementType, Is.EqualTo(OnnxElementType.Float16));
        Assert.That(value.Shape, Is.EqualTo(new long[] { 3, 1 }));
        Assert.That(value.ElementCount, Is.EqualTo(3));
        Assert.That(value.ToArray<Half>(), Is.EqualTo(halves));
        Assert.That(value.GetTensorBytes().ToArray(), Is.EqualTo(raw.ToArray()));
    }

    [Test]
    public void CreateTensor_RawBytesOfTheWrongLength_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => OrtValue.CreateTensor(Ort.Library, OnnxElementType.Float, new byte[7], [2]))!;

        Assert.That(e.Message, Does.Contain("needs 8 bytes"));
    }

    [Test]
    public void CreateTensor_ShapeNotMatchingTheData_Throws()
    {
        var library = Ort.Library;

        Assert.Throws<ArgumentException>(() => OrtValue.CreateTensor(library, new float[6], [2, 2]));
        Assert.Throws<ArgumentException>(() => OrtValue.CreateTensor(library, new float[0], [-1]));
    }

    [Test]
    public void CreateTensor_ScalarAndEmpty_HaveTheirShapesAndData()
    {
        var library = Ort.Library;

        using var scalar = OrtValue.CreateTensor(library, new[] { 5L }, []);
        using var empty = OrtValue.CreateTensor(library, Array.Empty<float>(), [0, 3]);
        using var noStrings = OrtValue.CreateStringTensor(library, [], [0]);

        Assert.That(scalar.Shape, Is.Empty);
        Assert.That(scalar.GetTensorData<long>()[0], Is.EqualTo(5));
        Assert.That(empty.Shape, Is.EqualTo(new long[] { 0, 3 }));
        Assert.That(empty.GetTensorData<float>().Length, Is.Zero);
        Assert.That(noStrings.GetStrings(), Is.Empty);
    }

    [Test]
    public void GetTensorData_WrongElementType_ThrowsNamingTheRightOne()
    {
        using var value = OrtValue.CreateTensor(Ort.Library, new long[] { 1, 2 }, [2]);

        var e = Assert.Throws<InvalidOperationException>(() => value.GetTensorData<float>())!;

        Assert.That(e.Message, Does.Contain("Int64").And.Contain("long"));
    }

    [Test]
    public void Output_Sequence_IsReportedAsNotATensor()
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.SequenceOutput());
        using var x = OrtValue.CreateTensor(library, new float[] { 1, 2 }, [2]);

        using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });

        Assert.That(session.Outputs[0].Kind, Is.EqualTo(OnnxValueKind.Sequence));
        Assert.That(outputs[0].Kind, Is.EqualTo(OnnxValueKind.Sequence));
        var e = Assert.Throws<InvalidOperationException>(() => outputs[0].GetTensorData<float>())!;
        Assert.That(e.Message, Does.Contain("output 's' is a Sequence, not a tensor"));
        Assert.That(outputs[0].ToString(), Is.EqualTo("Sequence"));
    }

    [Test]
    public void GetTensorData_UnsupportedClrType_Throws()
    {
        using var value = OrtValue.CreateTensor(Ort.Library, new float[] { 1 }, [1]);

        Assert.Throws<NotSupportedException>(() => value.GetTensorData<decimal>());
    }

    [Test]
    public void Dispose_Twice_IsHarmless()
    {
        var value = OrtValue.CreateTensor(Ort.Library, new float[] { 1 }, [1]);

        value.Dispose();
        value.Dispose();

        Assert.Throws<ObjectDisposedException>(() => value.GetTensorData<float>());
    }

    private static void RoundTrip<T>(TensorDataType type, T[] data) where T : unmanaged
    {
        var library = Ort.Library;
        using var session = Ort.Session(TestModels.Identity(type, 2, 3));
        using var x = OrtValue.CreateTensor<T>(library, data, [2, 3]);

        using var outputs = session.Run(new Dictionary<string, OrtValue> { ["x"] = x });

        Assert.That(outputs[0].ElementType, Is.EqualTo((OnnxElementType)(int)type), typeof(T).Name);
        Assert.That(outputs[0].Shape, Is.EqualTo(new long[] { 2, 3 }), typeof(T).Name);
        Assert.That(outputs[0].ToArray<T>(), Is.EqualTo(data), typeof(T).Name);
    }
}
