namespace EdgeOpt.Pipeline.Benchmarking;

/// <summary>Latency percentiles in milliseconds (nearest-rank on the sorted samples).</summary>
public sealed record LatencyStats(double Min, double Mean, double P50, double P90, double P99, double Max)
{
    /// <summary>Statistics of <paramref name="samplesMs"/>; throws when there are none.</summary>
    public static LatencyStats From(IReadOnlyCollection<double> samplesMs)
    {
        if (samplesMs.Count == 0) throw new ArgumentException("no latency samples: run at least once");
        var sorted = samplesMs.Order().ToArray();
        return new LatencyStats(sorted[0], sorted.Average(), Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 99), sorted[^1]);
    }

    /// <summary>The median of <paramref name="values"/> (the mean of the two middle ones for an even count); throws when there are none.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        if (sorted.Count == 0) throw new ArgumentException("no values: the median needs at least one");
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The nearest-rank percentile: the smallest sample with at least p% of samples at or below it.</summary>
    public static double Percentile(double[] sorted, double p)
    {
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>Memory figures of this process from /proc (Linux); zero elsewhere.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in bytes.</summary>
    public static long PeakRssBytes() => Read("VmHWM:");

    /// <summary>Resets the kernel's peak-RSS mark (VmHWM) for this process; best effort (Linux, writable clear_refs).</summary>
    public static void ResetPeak()
    {
        try
        {
            if (File.Exists("/proc/self/clear_refs")) File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Without it the peak covers the whole process, which is still an upper bound.
        }
    }

    /// <summary>Current resident set size (VmRSS) in bytes.</summary>
    public static long RssBytes() => Read("VmRSS:");

    private static long Read(string key)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return 0;
        foreach (var line in File.ReadLines(status))
        {
            if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
            var kb = line[key.Length..].Trim().Split(' ')[0];
            return long.Parse(kb, System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }
}
