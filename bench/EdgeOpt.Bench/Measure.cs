using System.Diagnostics;

namespace EdgeOpt.Bench;

/// <summary>Repeats an action and keeps the median wall time (after one warm-up run).</summary>
public static class Measure
{
    public static TimeSpan Median(int runs, Action action, Action? between = null)
    {
        action();
        between?.Invoke();
        var times = new List<TimeSpan>(runs);
        for (var i = 0; i < runs; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var clock = Stopwatch.StartNew();
            action();
            times.Add(clock.Elapsed);
            between?.Invoke();
        }
        times.Sort();
        return times[times.Count / 2];
    }

    public static double MiBPerSecond(long bytes, TimeSpan time) => bytes / (1024.0 * 1024.0) / time.TotalSeconds;
}
