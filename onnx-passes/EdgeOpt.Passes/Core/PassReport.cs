namespace EdgeOpt.Passes.Core;

/// <summary>One line of a pass report: a node (or tensor) and what happened to it.</summary>
public sealed record PassEntry(string Target, string Message)
{
    public override string ToString() => $"{Target}: {Message}";
}

/// <summary>What a pass changed and what it skipped, and why.</summary>
public sealed class PassReport(string passId)
{
    private readonly List<PassEntry> _changes = [];
    private readonly List<PassEntry> _skips = [];

    public string PassId { get; } = passId;
    public IReadOnlyList<PassEntry> Changes => _changes;
    public IReadOnlyList<PassEntry> Skips => _skips;
    public bool Changed => _changes.Count > 0;
    public TimeSpan Elapsed { get; internal set; }

    public void Change(string target, string message) => _changes.Add(new PassEntry(target, message));
    public void Skip(string target, string reason) => _skips.Add(new PassEntry(target, reason));

    public override string ToString() => $"{PassId}: {_changes.Count} changed, {_skips.Count} skipped";
}

/// <summary>The outcome of rewriting one matched node.</summary>
public readonly record struct Rewrite(bool Done, string Message)
{
    public static Rewrite Changed(string message) => new(true, message);
    public static Rewrite Skip(string reason) => new(false, reason);
}
