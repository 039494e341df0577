using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Onnx.IO;

/// <summary>Appends tensor data to one external data file, aligned so runtimes can map it.</summary>
internal sealed class ExternalSink(string tempPath, string location, long? threshold)
{
    private FileStream? _stream;

    public string Location => location;
    public long Length { get; private set; }
    public int TensorCount { get; private set; }

    /// <summary>With no threshold, tensors that were external stay external; with one, size decides.</summary>
    public bool WantsExternal(Tensor t) => threshold.HasValue ? t.ByteCount >= threshold.Value && t.ByteCount > 0 : t.External != null;

    public (long Offset, long Length) Append(Tensor t)
    {
        _stream ??= new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var align = t.ByteCount >= (1 << 20) ? 4096 : 64;
        var pad = (align - Length % align) % align;
        if (pad > 0)
        {
            _stream.Write(new byte[pad]);
            Length += pad;
        }
        var offset = Length;
        t.CopyRawTo(_stream);
        Length += t.ByteCount;
        TensorCount++;
        return (offset, t.ByteCount);
    }

    public void Close()
    {
        if (_stream == null) return;
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        _stream = null;
    }
}
