using EdgeOpt.Pipeline.Benchmarking;

namespace EdgeOpt.Pipeline.Tests.Benchmarking;

public class LatencyStatsTests
{
    [Test]
    public void HundredSamples_NearestRankPercentiles()
    {
        var samples = Enumerable.Range(1, 100).Select(i => (double)i).Reverse().ToList();

        var s = LatencyStats.From(samples);

        Assert.That(s, Is.EqualTo(new LatencyStats(1, 50.5, 50, 90, 99, 100)));
    }

    [Test]
    public void OneSample_AllPercentilesAreIt()
    {
        var s = LatencyStats.From([4.2]);
        Assert.That(new[] { s.Min, s.P50, s.P99, s.Max }, Has.All.EqualTo(4.2));
    }

    [Test]
    public void NoSamples_Refused() => Assert.Throws<ArgumentException>(() => LatencyStats.From([]));

    [Test]
    public void Median_OddCountTheMiddle_EvenCountTheMeanOfTheTwo_NoneRefused()
    {
        Assert.That(LatencyStats.Median([5, 1, 3]), Is.EqualTo(3));
        Assert.That(LatencyStats.Median([4, 1, 3, 2]), Is.EqualTo(2.5));
        Assert.Throws<ArgumentException>(() => LatencyStats.Median([]));
    }

    [Test]
    public void PeakRss_AtLeastCurrentRss()
    {
        if (!File.Exists("/proc/self/status")) Assert.Ignore("/proc is Linux only");
        var current = ProcessMemory.RssBytes();
        var peak = ProcessMemory.PeakRssBytes();
        Assert.That(peak, Is.GreaterThanOrEqualTo(current).And.GreaterThan(0), "the peak is read after the current size, so it cannot be smaller");
    }
}
