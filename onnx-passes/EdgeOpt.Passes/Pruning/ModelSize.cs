using System.IO.Compression;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Pruning;

/// <summary>The size of a serialized model: its raw bytes and what deflate (a zip deployment) makes of them.</summary>
/// <param name="RawBytes">Bytes of the model serialized with every tensor embedded.</param>
/// <param name="DeflatedBytes">Bytes of those after deflate at <see cref="CompressionLevel.Optimal"/> (zip's default method and level).</param>
public readonly record struct ModelSize(long RawBytes, long DeflatedBytes)
{
    /// <summary>Serializes <paramref name="model"/> (every tensor embedded) and deflates it. Deterministic; does not change the model.</summary>
    public static ModelSize Measure(Model model) => Measure(ModelWriter.ToBytes(model));

    /// <summary>The size of already serialized model bytes.</summary>
    public static ModelSize Measure(ReadOnlySpan<byte> serialized)
    {
        using var compressed = new MemoryStream();
        using (var deflate = new DeflateStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(serialized);
        }
        return new ModelSize(serialized.Length, compressed.Length);
    }

    public override string ToString() => $"{Format(RawBytes)} raw, {Format(DeflatedBytes)} deflated";

    /// <summary>A byte count for people: B, KiB or MiB.</summary>
    public static string Format(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes / (1024.0 * 1024):0.00} MiB",
    };
}
