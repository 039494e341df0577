using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Pipeline.Tests.Execution;

/// <summary>The comparison the corpus and equivalence tests rely on: it must see real differences and forgive only what it says.</summary>
public class ExecutionTestKitTests
{
    private const double Rtol = 1e-3;
    private const double Atol = 1e-7;

    /// <summary>E5M2 NaN with mantissa 10 and with mantissa 11: two encodings of NaN.</summary>
    private const byte E5M2NaNLow = 0x7E;

    private const byte E5M2NaNHigh = 0x7F;

    /// <summary>E4M3FN 448, its largest finite value (S.1111.110).</summary>
    private const byte E4M3Max = 0x7E;

    private const double E4M3MaxValue = 448;

    [Test]
    public void Difference_WithinRelativeTolerance_IsNull()
    {
        var expected = Floats(1000f);
        var actual = Floats(1000f * (1 + 0.5f * (float)Rtol));

        Assert.That(ExecutionTestKit.Difference(actual, expected, Rtol, Atol), Is.Null);
    }

    [Test]
    public void Difference_BeyondTolerance_NamesTheElement()
    {
        var expected = Floats(1f, 2f);
        var actual = Floats(1f, 2f * (1 + 2 * (float)Rtol));

        Assert.That(ExecutionTestKit.Difference(actual, expected, Rtol, Atol), Does.Contain("element 1"));
    }

    [Test]
    public void Difference_NaNAgainstNaN_IsNull() =>
        Assert.That(ExecutionTestKit.Difference(Floats(float.NaN), Floats(float.NaN), Rtol, Atol), Is.Null);

    [Test]
    public void Difference_NaNAgainstANumber_IsReported() =>
        Assert.That(ExecutionTestKit.Difference(Floats(float.NaN), Floats(0f), Rtol, Atol), Is.Not.Null);

    [Test]
    public void Difference_InfinitiesOfOppositeSign_AreReported() =>
        Assert.That(ExecutionTestKit.Difference(Floats(float.NegativeInfinity), Floats(float.PositiveInfinity), Rtol, Atol), Is.Not.Null);

    [Test]
    public void Difference_FiniteAgainstInfinity_IsReported() =>
        Assert.That(ExecutionTestKit.Difference(Floats(float.MaxValue), Floats(float.PositiveInfinity), Rtol, Atol), Is.Not.Null);

    [Test]
    public void Difference_IntegersOffByOne_AreReported()
    {
        var expected = Tensor.Create("t", [2], new long[] { 5, 6 });
        var actual = Tensor.Create("t", [2], new long[] { 5, 7 });

        Assert.That(ExecutionTestKit.Difference(actual, expected, Rtol, Atol), Is.Not.Null);
    }

    [Test]
    public void Difference_OtherElementType_IsReported()
    {
        var expected = Tensor.Create("t", [1], new[] { 1f });
        var actual = Tensor.Create("t", [1], new[] { 1.0 });

        Assert.That(ExecutionTestKit.Difference(actual, expected, Rtol, Atol), Does.Contain("element type"));
    }

    [Test]
    public void Difference_OtherShape_IsReported()
    {
        var expected = Tensor.Create("t", [2, 1], new[] { 1f, 2f });
        var actual = Tensor.Create("t", [1, 2], new[] { 1f, 2f });

        Assert.That(ExecutionTestKit.Difference(actual, expected, Rtol, Atol), Does.Contain("shape"));
    }

    [Test]
    public void Difference_Float8NaNsOfOtherBits_IsNull()
    {
        var expected = Tensor.FromRaw("t", TensorDataType.Float8E5M2, [1], new[] { E5M2NaNLow });
        var actual = Tensor.FromRaw("t", TensorDataType.Float8E5M2, [1], new[] { E5M2NaNHigh });

        Assert.That(ExecutionTestKit.Difference(actual, expected, Rtol, Atol), Is.Null);
    }

    [Test]
    public void Decode_E4M3FNLargestFinite_Is448() =>
        Assert.That(Float8.Decode(TensorDataType.Float8E4M3FN, E4M3Max), Is.EqualTo(E4M3MaxValue));

    private static Tensor Floats(params float[] values) => Tensor.Create("t", [values.Length], values);
}
