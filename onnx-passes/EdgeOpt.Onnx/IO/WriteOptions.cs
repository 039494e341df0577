namespace EdgeOpt.Onnx.IO;

/// <summary>How a model is written.</summary>
public sealed record WriteOptions
{
    /// <summary>
    /// Tensors of at least this many bytes go to the external data file; the rest are embedded.
    /// Null keeps each tensor where it was (external stays external, embedded stays embedded), and switches to
    /// 1 KiB automatically when the embedded model would pass protobuf's 2 GiB limit.
    /// </summary>
    public long? ExternalDataThreshold { get; init; }

    /// <summary>File name of the external data, beside the model; default "&lt;model file name&gt;.data".</summary>
    public string? ExternalDataFileName { get; init; }

    /// <summary>Embed every tensor (fails if the result would pass 2 GiB).</summary>
    public static WriteOptions Embedded { get; } = new() { ExternalDataThreshold = long.MaxValue };

    /// <summary>Largest embedded size allowed (protobuf's 2 GiB less a margin); lowered only by tests.</summary>
    internal long EmbeddedLimit { get; init; } = int.MaxValue - (64L << 20);
}

/// <summary>What a write produced.</summary>
public sealed record WriteResult(string Path, long ModelBytes, string? ExternalDataPath, long ExternalDataBytes, int ExternalTensors, bool AutoExternalized)
{
    public long TotalBytes => ModelBytes + ExternalDataBytes;
}
