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

    /// <summary>Peak resident set size of this process so far (Linux: VmHWM), in bytes; 0 elsewhere.</summary>
    public static long PeakRss()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return 0;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line == null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
