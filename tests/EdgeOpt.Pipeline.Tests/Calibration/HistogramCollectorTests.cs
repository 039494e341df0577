using EdgeOpt.Pipeline.Calibration;
using static EdgeOpt.Pipeline.Tests.Calibration.CalibrationTestKit;

namespace EdgeOpt.Pipeline.Tests.Calibration;

public class HistogramCollectorTests
{
    private static HistogramCollector Fed(params float[][] batches)
    {
        var h = new HistogramCollector();
        foreach (var b in batches) h.Add(b);
        return h;
    }

    /// <summary>A standard normal sample of 1,000,000 values plus three far outliers at +40, the case percentile is for.</summary>
    private static float[] GaussianWithOutliers() => [.. Gaussian(1_000_000, seed: 7), 40f, 40f, 40f];

    [Test]
    public void Counts_AddUpToTheValuesSeen()
    {
        var h = Fed(Uniform(10_000, -1, 3, seed: 1), Uniform(5_000, 0, 9, seed: 2));

        long total = 0;
        foreach (var c in h.Counts) total += c;
        Assert.That(total, Is.EqualTo(15_000));
        Assert.That(h.Count, Is.EqualTo(15_000));
    }

    [Test]
    public void Bins_CoverEveryValueAndZero()
    {
        var h = Fed(Uniform(10_000, 2, 3, seed: 3));

        Assert.That(h.BinLowerEdge(0), Is.LessThanOrEqualTo(0));
        Assert.That(h.BinLowerEdge(h.BinCount - 1) + h.BinWidth, Is.GreaterThan(h.Max));
        Assert.That(Math.Log2(h.BinWidth), Is.EqualTo(Math.Round(Math.Log2(h.BinWidth))), "bin width is a power of two");
    }

    [Test]
    public void GrowingRange_MemoryStaysAtTheBinCount()
    {
        var h = new HistogramCollector(2048);
        var counts = h.Counts.Length;

        for (var i = 0; i < 10_000; i++)
        {
            var scale = 1 + i * 0.37f;
            h.Add(new[] { -scale, scale * 0.5f, scale, i % 7 });
        }

        Assert.That(h.BinCount, Is.EqualTo(2048));
        Assert.That(h.Counts.Length, Is.EqualTo(counts));
        Assert.That(h.Count, Is.EqualTo(40_000));
        Assert.That(h.Max, Is.EqualTo(1 + 9_999 * 0.37f));
    }

    [Test]
    public void SameValues_DifferentOrderAndBatching_SameHistogram()
    {
        var values = Gaussian(50_000, seed: 11, sigma: 3);
        var reversed = values.Reverse().ToArray();

        var whole = Fed(values);
        var pieces = Fed(reversed[..100], reversed[100..20_000], reversed[20_000..]);

        Assert.That(NonEmptyBins(pieces), Is.EqualTo(NonEmptyBins(whole)));
        Assert.That(pieces.Percentile(99.9), Is.EqualTo(whole.Percentile(99.9)));
        Assert.That(pieces.Entropy(), Is.EqualTo(whole.Entropy()));
    }

    [Test]
    public void Merge_EqualsOneCollectorFedEverything()
    {
        var small = Uniform(20_000, -0.01f, 0.01f, seed: 4);
        var large = Uniform(20_000, -5, 50, seed: 5);
        var a = Fed(small);
        var b = Fed(large, [0f, 0f]);

        a.Merge(b);

        var all = Fed(small, large, [0f, 0f]);
        Assert.That(NonEmptyBins(a), Is.EqualTo(NonEmptyBins(all)));
        Assert.That((a.Count, a.Min, a.Max), Is.EqualTo((all.Count, all.Min, all.Max)));
    }

    [TestCase(1e9f)]
    [TestCase(1e-33f)]
    public void ExtremeMagnitudes_CountedOnTheScalarPath(float scale)
    {
        var values = Uniform(20_000, -3, 5, seed: 6).Select(v => v * scale).ToArray();
        var h = Fed(values[..10_000], values[10_000..]);

        Assert.That(NonEmptyBins(h).Sum(b => b.Count), Is.EqualTo(20_000));
        Assert.That(h.Percentile(100), Is.EqualTo(new Passes.Quantization.TensorRange(h.Min, h.Max)));
        Assert.That(h.Percentile(98).Max / scale, Is.EqualTo(4.92f).Within(0.05f));
    }

    [Test]
    public void Merge_DifferentBinCounts_Refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new HistogramCollector(1024).Merge(new HistogramCollector(2048)))!;
        Assert.That(e.Message, Does.Contain("1024").And.Contain("2048"));
    }

    [Test]
    public void NonFinite_CountedAndLeftOut()
    {
        var h = Fed([1f, float.NaN, -2f, float.PositiveInfinity, 3f, float.NegativeInfinity]);

        Assert.That((h.Count, h.NonFinite, h.Min, h.Max), Is.EqualTo((3L, 3L, -2f, 3f)));
        Assert.That(h.Percentile(100), Is.EqualTo(new Passes.Quantization.TensorRange(-2, 3)));
    }

    [Test]
    public void AllZeros_ZeroRange_ThenGrowsWhenValuesArrive()
    {
        var h = Fed(new float[100]);
        Assert.That(h.Percentile(99.999), Is.EqualTo(new Passes.Quantization.TensorRange(0, 0)));
        Assert.That(h.BinWidth, Is.Zero);

        h.Add([1f, 2f]);

        Assert.That(NonEmptyBins(h)[0], Is.EqualTo((0.0, 100L)), "the zeros kept their count");
        Assert.That(h.Mse().Max, Is.GreaterThan(0));
    }

    [Test]
    public void Percentile_ClipsOutliers_MinMaxDoesNot()
    {
        var h = Fed(GaussianWithOutliers());

        var percentile = h.Percentile(99.999);
        var minmax = h.Range(new CalibrationOptions { Method = CalibrationMethod.MinMax })!.Value;

        Assert.That(minmax.Max, Is.EqualTo(40f));
        Assert.That(percentile.Max, Is.InRange(3.5f, 6f), "the 99.9995th percentile of N(0,1) is about 4.4");
        Assert.That(percentile.Min, Is.InRange(-6f, -3.5f));
    }

    [Test]
    public void Percentile_Symmetric_OneThresholdBothSides()
    {
        var h = Fed([.. Uniform(100_000, -1, 1, seed: 8), 30f]);

        var r = h.Percentile(99.9, symmetric: true);

        Assert.That(r.Max, Is.InRange(0.99f, 1.01f));
        Assert.That(r.Min, Is.EqualTo(Math.Max(-r.Max, h.Min)), "[-t, t] clipped to what was seen");
    }

    [Test]
    public void Percentile_Hundred_IsMinMax()
    {
        var h = Fed(Uniform(10_000, -3, 7, seed: 9));

        Assert.That(h.Percentile(100), Is.EqualTo(new Passes.Quantization.TensorRange(h.Min, h.Max)));
    }

    [Test]
    public void Percentile_Uniform_CutsTheTailsProportionally()
    {
        var h = Fed(Uniform(1_000_000, 0, 1, seed: 10));

        var r = h.Percentile(98);

        Assert.That(r.Min, Is.EqualTo(0.01f).Within(0.002f));
        Assert.That(r.Max, Is.EqualTo(0.99f).Within(0.002f));
    }

    [Test]
    public void Entropy_GaussianWithOutliers_ThresholdBetweenBulkAndOutliers()
    {
        var h = Fed(GaussianWithOutliers());

        var r = h.Entropy();

        Assert.That(r.Max, Is.InRange(2.5f, 10f));
        Assert.That(r.Max, Is.LessThanOrEqualTo(h.Max));
        Assert.That(r.Min, Is.EqualTo(-r.Max));
    }

    [Test]
    public void Entropy_ReluLike_ZerosDoNotPullTheThresholdDown()
    {
        var values = Gaussian(200_000, seed: 12).Select(v => MathF.Max(v, 0)).ToArray();
        var h = Fed(values);

        var r = h.Entropy();

        Assert.That(h.ExactZeros, Is.EqualTo(values.Count(v => v == 0)));
        Assert.That(r.Min, Is.Zero, "clipped to the observed minimum");
        Assert.That(r.Max, Is.InRange(2.5f, h.Max), "about half the values are exact zeros; the threshold follows the positive half-normal");
        Assert.That(Fed(values.Where(v => v > 0).ToArray()).Entropy().Max, Is.EqualTo(r.Max), "same threshold as without the zeros");
    }

    [Test]
    public void Mse_Uniform_KeepsNearlyTheWholeRange()
    {
        var h = Fed(Uniform(1_000_000, 0, 1, seed: 13));

        var r = h.Mse();

        Assert.That(r.Min, Is.EqualTo(h.Min));
        Assert.That(r.Max, Is.InRange(0.98f, h.Max));
    }

    [Test]
    public void Mse_HeavyTail_ClipsTheTail()
    {
        var h = Fed(Laplace(1_000_000, seed: 15));

        var asymmetric = h.Mse();
        var symmetric = h.Mse(symmetric: true);

        Assert.That(asymmetric.Max, Is.InRange(5f, 0.9f * h.Max), "8-bit MSE clips a Laplace(1) near 10, below its maximum of about 14");
        Assert.That(asymmetric.Min, Is.InRange(0.9f * h.Min, -5f));
        Assert.That(symmetric.Max, Is.InRange(5f, 0.9f * h.Max));
        Assert.That(symmetric.Min, Is.EqualTo(Math.Max(-symmetric.Max, h.Min)));
    }

    [Test]
    public void Mse_FewOutliers_WeighedAgainstResolution()
    {
        var h = Fed(GaussianWithOutliers());

        var r = h.Mse();

        Assert.That(r.Max, Is.InRange(10f, 40f), "three values at 40 cost 3·(40−b)² when clipped: MSE keeps most of the way to them");
        Assert.That(r.Min, Is.InRange(h.Min, -3.5f));
    }

    [Test]
    public void Methods_NeverExceedTheObservedRange()
    {
        var h = Fed([.. Uniform(50_000, -0.5f, 2, seed: 14), -0.7f, 2.2f]);
        CalibrationOptions[] all =
        [
            new() { Method = CalibrationMethod.Percentile }, new() { Method = CalibrationMethod.Percentile, Symmetric = true },
            new() { Method = CalibrationMethod.Entropy }, new() { Method = CalibrationMethod.Mse }, new() { Method = CalibrationMethod.Mse, Symmetric = true },
        ];

        foreach (var options in all)
        {
            var r = h.Range(options)!.Value;
            Assert.That(r.Min, Is.GreaterThanOrEqualTo(h.Min), options.Describe());
            Assert.That(r.Max, Is.LessThanOrEqualTo(h.Max), options.Describe());
            Assert.That(r.Min, Is.LessThan(r.Max), options.Describe());
        }
    }

    private static float[] Laplace(int count, int seed)
    {
        var r = new Random(seed);
        var data = new float[count];
        for (var i = 0; i < count; i++)
        {
            var u = r.NextDouble() - 0.5;
            data[i] = (float)(-Math.Sign(u) * Math.Log(1 - 2 * Math.Abs(u)));
        }
        return data;
    }

    [Test]
    public void Empty_NoRange()
    {
        Assert.That(new HistogramCollector().Range(new CalibrationOptions { Method = CalibrationMethod.Entropy }), Is.Null);
    }
}
