using System.Globalization;
using System.Text.Json;

namespace EdgeOpt.Runtime.Profiling;

/// <summary>One execution of one node's kernel, from ONNX Runtime's profile.</summary>
/// <param name="NodeName">The node's name in the (optimized) graph ONNX Runtime ran.</param>
/// <param name="OpType">The operator, e.g. <c>Conv</c> (fused nodes show ONNX Runtime's op, e.g. <c>FusedConv</c>).</param>
/// <param name="Provider">The execution provider that ran it, e.g. <c>CPUExecutionProvider</c>.</param>
/// <param name="DurationMicroseconds">Kernel time.</param>
/// <param name="StartMicroseconds">Start, relative to the start of profiling.</param>
public sealed record NodeExecution(string NodeName, string OpType, string Provider, long DurationMicroseconds, long StartMicroseconds);

/// <summary>What one execution provider ran: distinct nodes, kernel executions and their total time.</summary>
public sealed record ProviderSummary(string Provider, int NodeCount, int ExecutionCount, long TotalMicroseconds);

/// <summary>What one operator type cost on one provider.</summary>
public sealed record OpTypeSummary(string OpType, string Provider, int NodeCount, int ExecutionCount, long TotalMicroseconds);

/// <summary>
/// ONNX Runtime's profiling JSON (a Chrome trace: an array of events) read into per-node kernel executions, with
/// the aggregations a benchmark reports: which provider ran how many nodes and for how long, and the time per
/// operator type. Node events are those of category <c>Node</c> that name a provider (the <c>*_kernel_time</c>
/// events; the fence events around them are skipped).
/// </summary>
public sealed class ProfileReport
{
    private const string KernelSuffix = "_kernel_time";

    private ProfileReport(IReadOnlyList<NodeExecution> executions, IReadOnlyList<long> runDurations)
    {
        Executions = executions;
        RunDurationsMicroseconds = runDurations;
        RunCount = runDurations.Count;
        RunMicroseconds = runDurations.Sum();
        ByProvider =
        [
            .. executions.GroupBy(e => e.Provider, StringComparer.Ordinal)
                .Select(g => new ProviderSummary(g.Key, g.Select(e => e.NodeName).Distinct(StringComparer.Ordinal).Count(), g.Count(),
                    g.Sum(e => e.DurationMicroseconds)))
                .OrderByDescending(s => s.TotalMicroseconds).ThenBy(s => s.Provider, StringComparer.Ordinal),
        ];
        ByOpType =
        [
            .. executions.GroupBy(e => (e.OpType, e.Provider))
                .Select(g => new OpTypeSummary(g.Key.OpType, g.Key.Provider, g.Select(e => e.NodeName).Distinct(StringComparer.Ordinal).Count(),
                    g.Count(), g.Sum(e => e.DurationMicroseconds)))
                .OrderByDescending(s => s.TotalMicroseconds).ThenBy(s => s.OpType, StringComparer.Ordinal)
                .ThenBy(s => s.Provider, StringComparer.Ordinal),
        ];
        ProviderByNode = executions.GroupBy(e => e.NodeName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First().Provider, StringComparer.Ordinal);
    }

    /// <summary>Every node kernel execution, in the order of the profile.</summary>
    public IReadOnlyList<NodeExecution> Executions { get; }

    /// <summary>Per provider: distinct nodes, executions, total kernel time; most time first.</summary>
    public IReadOnlyList<ProviderSummary> ByProvider { get; }

    /// <summary>Per (operator type, provider): distinct nodes, executions, total kernel time; most time first.</summary>
    public IReadOnlyList<OpTypeSummary> ByOpType { get; }

    /// <summary>The provider each node ran on (the first seen, should a node appear on several).</summary>
    public IReadOnlyDictionary<string, string> ProviderByNode { get; }

    /// <summary>How many model runs the profile holds (<c>model_run</c> events).</summary>
    public int RunCount { get; }

    /// <summary>The duration of each run, in the order of the profile (microseconds).</summary>
    public IReadOnlyList<long> RunDurationsMicroseconds { get; }

    /// <summary>The total duration of those runs.</summary>
    public long RunMicroseconds { get; }

    /// <summary>Reads the profile file <paramref name="path"/> (as returned by <see cref="InferenceSession.EndProfiling"/>).</summary>
    public static ProfileReport Load(string path) => Parse(File.ReadAllText(path));

    /// <summary>Parses profile JSON text.</summary>
    /// <exception cref="FormatException">The text is not a JSON array of trace events.</exception>
    public static ProfileReport Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new FormatException($"not an ONNX Runtime profile: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("not an ONNX Runtime profile: expected a JSON array of trace events");
            }
            var executions = new List<NodeExecution>();
            var runs = new List<long>();
            foreach (var e in document.RootElement.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Object) continue;
                var category = Text(e, "cat");
                var name = Text(e, "name");
                if (category == "Session" && name == "model_run")
                {
                    runs.Add(Number(e, "dur"));
                }
                if (category != "Node" || !e.TryGetProperty("args", out var args) || args.ValueKind != JsonValueKind.Object) continue;
                var provider = Text(args, "provider");
                if (provider.Length == 0) continue;
                var node = name.EndsWith(KernelSuffix, StringComparison.Ordinal) ? name[..^KernelSuffix.Length] : name;
                executions.Add(new NodeExecution(node, Text(args, "op_name"), provider, Number(e, "dur"), Number(e, "ts")));
            }
            return new ProfileReport(executions, runs);
        }
    }

    private static string Text(JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";

    private static long Number(JsonElement e, string property)
    {
        if (!e.TryGetProperty(property, out var v)) return 0;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n)) return n;
        return v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out n) ? n : 0;
    }
}
