using System.Globalization;

namespace EdgeOpt.Cli;

/// <summary>Human-readable numbers.</summary>
public static class Format
{
    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("F2", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>1.23 G, 456.7 M, 12.3 K.</summary>
    public static string Metric(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("F2", CultureInfo.InvariantCulture) + " G",
        >= 1_000_000 => (n / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " M",
        >= 1_000 => (n / 1e3).ToString("F1", CultureInfo.InvariantCulture) + " K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };
}
