using EdgeOpt.Passes.Quantization;

namespace EdgeOpt.Passes.Tests.Quantization;

public class QuantMathTests
{
    [TestCase(QuantType.U8, false, false, 0, 255)]
    [TestCase(QuantType.U8, false, true, 0, 127)]
    [TestCase(QuantType.S8, false, false, -128, 127)]
    [TestCase(QuantType.S8, true, false, -127, 127)]
    [TestCase(QuantType.S8, true, true, -64, 64)]
    [TestCase(QuantType.S8, false, true, -64, 64)]
    public void Codes_MatchOrtRanges(QuantType type, bool symmetric, bool reduceRange, int min, int max)
    {
        Assert.That(QuantMath.Codes(type, symmetric, reduceRange), Is.EqualTo(new QuantRange(min, max)));
    }

    [Test]
    public void Asymmetric_U8_ScaleAndZeroPoint()
    {
        var p = QuantMath.Compute(-1f, 3f, QuantMath.Codes(QuantType.U8), symmetric: false);

        Assert.That(p.Scale, Is.EqualTo(4f / 255).Within(1e-9));
        Assert.That(p.ZeroPoint, Is.EqualTo(64), "round(0 - (-1)/(4/255)) = round(63.75)");
    }

    [Test]
    public void Asymmetric_RangeWidenedToHoldZero()
    {
        var p = QuantMath.Compute(2f, 6f, QuantMath.Codes(QuantType.U8), symmetric: false);

        Assert.That(p.ZeroPoint, Is.Zero);
        Assert.That(p.Scale, Is.EqualTo(6f / 255).Within(1e-9));
    }

    [Test]
    public void Symmetric_S8_UsesAbsMaxAndZeroPointZero()
    {
        var p = QuantMath.Compute(-0.5f, 2f, QuantMath.Codes(QuantType.S8, symmetric: true), symmetric: true);

        Assert.That(p.Scale, Is.EqualTo(4f / 254).Within(1e-9));
        Assert.That(p.ZeroPoint, Is.Zero);
    }

    [Test]
    public void Symmetric_U8_ZeroPointIsMiddleCode()
    {
        Assert.That(QuantMath.Compute(-1f, 1f, QuantMath.Codes(QuantType.U8), symmetric: true).ZeroPoint, Is.EqualTo(128));
    }

    [TestCase(QuantType.U8, false, 0)]
    [TestCase(QuantType.S8, false, 0)]
    [TestCase(QuantType.S8, true, 0)]
    [TestCase(QuantType.U8, true, 128)]
    public void DegenerateRange_ScaleOneZeroRepresentable(QuantType type, bool symmetric, int zeroPoint)
    {
        var codes = QuantMath.Codes(type, symmetric);

        var p = QuantMath.Compute(0f, 0f, codes, symmetric);

        Assert.That(p, Is.EqualTo(new QuantParams(1f, zeroPoint)));
        Assert.That(QuantMath.Dequantize(QuantMath.Quantize(0f, p, codes), p), Is.Zero);
    }

    [Test]
    public void Compute_RejectsNonFiniteAndInvertedRanges()
    {
        var codes = QuantMath.Codes(QuantType.U8);
        Assert.Throws<ArgumentException>(() => QuantMath.Compute(float.NaN, 1f, codes, false));
        Assert.Throws<ArgumentException>(() => QuantMath.Compute(0f, float.PositiveInfinity, codes, false));
        Assert.Throws<ArgumentException>(() => QuantMath.Compute(2f, 1f, codes, false));
    }

    [TestCase(2.5f, 2)]
    [TestCase(3.5f, 4)]
    [TestCase(-2.5f, -2)]
    [TestCase(-3.5f, -4)]
    [TestCase(2.4f, 2)]
    public void Quantize_RoundsHalfToEven(float x, int expected)
    {
        Assert.That(QuantMath.Quantize(x, new QuantParams(1f, 0), QuantMath.Codes(QuantType.S8)), Is.EqualTo(expected));
    }

    [Test]
    public void Quantize_ClampsToCodes()
    {
        var codes = QuantMath.Codes(QuantType.U8);
        var p = new QuantParams(0.1f, 10);

        Assert.That(QuantMath.Quantize(1000f, p, codes), Is.EqualTo(255));
        Assert.That(QuantMath.Quantize(-1000f, p, codes), Is.EqualTo(0));
        Assert.That(QuantMath.Quantize(float.NaN, p, codes), Is.EqualTo(10));
    }

    [Test]
    public void PerChannelWeights_OneScalePerChannelFromItsAbsMax()
    {
        float[] w = [1.5f, -2f, 0.5f, 0f, 0f, 0f, 0.25f, 0.1f, -0.0625f];

        var q = QuantMath.QuantizeWeights(w, [3, 3], axis: 0, reduceRange: false);

        Assert.That(q.Scales, Is.EqualTo(new[] { 2f / 127, 1f, 0.25f / 127 }), "the all-zero channel gets scale 1");
        Assert.That(q.Codes, Is.EqualTo(new sbyte[] { 95, -127, 32, 0, 0, 0, 127, 51, -32 }));
    }

    [Test]
    public void PerChannelWeights_AxisOneOfMatrix()
    {
        float[] w = [1f, 4f, -1f, -3f];

        var q = QuantMath.QuantizeWeights(w, [2, 2], axis: 1, reduceRange: false);

        Assert.That(q.Scales, Is.EqualTo(new[] { 1f / 127, 4f / 127 }));
        Assert.That(q.Codes, Is.EqualTo(new sbyte[] { 127, 127, -127, -95 }));
    }

    [Test]
    public void PerTensorWeights_ReduceRange_SevenBits()
    {
        var q = QuantMath.QuantizeWeights([1f, -0.5f, 0.25f], [3], axis: null, reduceRange: true);

        Assert.That(q.Scales, Is.EqualTo(new[] { 1f / 64 }));
        Assert.That(q.Codes, Is.EqualTo(new sbyte[] { 64, -32, 16 }));
        Assert.That(q.PerChannel, Is.False);
    }

    [Test]
    public void Bias_ScaleIsInputScaleTimesWeightScale()
    {
        var codes = QuantMath.QuantizeBias([1f, -0.3f], 0.1f, [0.5f, 0.02f], out var scales, out var clamped);

        Assert.That(scales, Is.EqualTo(new[] { 0.1f * 0.5f, 0.1f * 0.02f }));
        Assert.That(codes, Is.EqualTo(new[] { 20, -150 }));
        Assert.That(clamped, Is.Zero);
    }

    [Test]
    public void Bias_SaturatesAtInt32AndCountsIt()
    {
        var codes = QuantMath.QuantizeBias([1e30f, -1e30f], 1e-10f, [1e-10f], out _, out var clamped);

        Assert.That(codes, Is.EqualTo(new[] { int.MaxValue, int.MinValue }));
        Assert.That(clamped, Is.EqualTo(2));
    }

    /// <summary>Properties over seeded random ranges: zero is exact, codes stay in range, the round trip errs by at most half a step.</summary>
    [TestCase(QuantType.U8, false, false)]
    [TestCase(QuantType.U8, false, true)]
    [TestCase(QuantType.S8, true, false)]
    [TestCase(QuantType.S8, true, true)]
    [TestCase(QuantType.S8, false, false)]
    public void Properties_HoldOverRandomRanges(QuantType type, bool symmetric, bool reduceRange)
    {
        var random = new Random(1234);
        var codes = QuantMath.Codes(type, symmetric, reduceRange);
        for (var trial = 0; trial < 2000; trial++)
        {
            var a = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-6, 6)));
            var b = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-6, 6)));
            var (min, max) = (MathF.Min(a, b), MathF.Max(a, b));

            var p = QuantMath.Compute(min, max, codes, symmetric);

            Assert.That(p.Scale, Is.GreaterThan(0f));
            Assert.That(p.ZeroPoint, Is.InRange(codes.Min, codes.Max));
            Assert.That(QuantMath.Dequantize(QuantMath.Quantize(0f, p, codes), p), Is.Zero, "zero is exactly representable");
            if (symmetric) Assert.That(p.ZeroPoint, Is.EqualTo(codes.Middle));
            var previous = int.MinValue;
            for (var k = 0; k <= 20; k++)
            {
                var x = min + (max - min) * k / 20f;
                var q = QuantMath.Quantize(x, p, codes);
                Assert.That(q, Is.InRange(codes.Min, codes.Max));
                Assert.That(q, Is.GreaterThanOrEqualTo(previous), "monotonic");
                previous = q;
                Assert.That(Math.Abs(QuantMath.Dequantize(q, p) - x), Is.LessThanOrEqualTo(p.Scale * 0.5f * 1.0001f + 1e-6f * Math.Abs(x)),
                    $"[{min}, {max}] x={x} {p}");
            }
        }
    }
}
