namespace EdgeOpt.Onnx.Ir;

/// <summary>An operator set import: <see cref="Domain"/> ("" for ONNX) at <see cref="Version"/>.</summary>
public readonly record struct OpsetId(string Domain, long Version);

/// <summary>A loaded ONNX model: its metadata and main graph.</summary>
public sealed class Model
{
    public Model(Graph graph) => Graph = graph;

    public long IrVersion { get; set; } = 8;
    public List<OpsetId> Opsets { get; } = [];
    public string ProducerName { get; set; } = "";
    public string ProducerVersion { get; set; } = "";
    public string Domain { get; set; } = "";
    public long ModelVersion { get; set; }
    public string DocString { get; set; } = "";
    public List<KeyValuePair<string, string>> Metadata { get; } = [];
    public Graph Graph { get; }

    /// <summary>Names of model-local functions (their bodies are kept as read).</summary>
    public IReadOnlyList<string> LocalFunctions { get; internal set; } = [];

    /// <summary>The file the model was read from, when it was read from a file.</summary>
    public string? SourcePath { get; internal set; }

    /// <summary>The model proto as read, without its graph: carries fields the IR does not model.</summary>
    internal Proto.ModelProto? Template { get; set; }

    /// <summary>The imported version of <paramref name="domain"/> ("" or "ai.onnx" for ONNX), or null.</summary>
    public long? OpsetVersion(string domain = "")
    {
        var d = domain == "ai.onnx" ? "" : domain;
        foreach (var o in Opsets)
        {
            if ((o.Domain == "ai.onnx" ? "" : o.Domain) == d) return o.Version;
        }
        return null;
    }
}
