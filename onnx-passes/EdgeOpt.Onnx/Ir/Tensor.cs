using System.Runtime.InteropServices;
using Google.Protobuf;
using EdgeOpt.Onnx.Proto;

namespace EdgeOpt.Onnx.Ir;

/// <summary>Where a tensor's bytes live when they are outside the model file.</summary>
/// <param name="Location">The location as written in the model (relative to the model's folder).</param>
/// <param name="FullPath">The resolved file, always inside the model's folder.</param>
/// <param name="Offset">Byte offset of the data in the file.</param>
/// <param name="Length">Byte length of the data.</param>
public sealed record ExternalDataRef(string Location, string FullPath, long Offset, long Length);

/// <summary>
/// An immutable constant tensor: initializer, Constant-node value or attribute tensor.
/// Numeric data is raw little-endian bytes viewed as typed spans without copying where the file's
/// encoding allows (raw_data); typed proto fields are decoded once on first access; external data
/// stays in its file until touched, and a save streams it without loading it.
/// </summary>
public sealed class Tensor
{
    private readonly long[] _dims;
    private readonly Lock _gate = new();
    private ReadOnlyMemory<byte>? _raw;
    private IReadOnlyList<ByteString>? _strings;

    private Tensor(string name, TensorDataType dataType, long[] dims)
    {
        Name = name;
        DataType = dataType;
        _dims = dims;
        ElementCount = 1;
        foreach (var d in dims) ElementCount *= d;
    }

    public string Name { get; }
    public TensorDataType DataType { get; }
    public IReadOnlyList<long> Dims => _dims;
    public int Rank => _dims.Length;
    public long ElementCount { get; }

    /// <summary>Bytes of numeric data in raw form (0 for string tensors).</summary>
    public long ByteCount => DataType == TensorDataType.String ? 0 : TensorDataTypes.RawByteCount(DataType, ElementCount);

    /// <summary>Set when the data lives in an external file (until a pass replaces the tensor).</summary>
    public ExternalDataRef? External { get; private init; }

    /// <summary>The proto this tensor was read from; lets an unchanged tensor be written back unchanged.</summary>
    internal TensorProto? Origin { get; private init; }

    internal bool HasMaterializedData { get { lock (_gate) return _raw.HasValue || _strings != null; } }

    public long[] DimsArray() => (long[])_dims.Clone();

    /// <summary>The numeric data as raw little-endian bytes (reads external data on first use).</summary>
    public ReadOnlyMemory<byte> RawData
    {
        get
        {
            if (DataType == TensorDataType.String)
            {
                throw new InvalidOperationException($"tensor '{Name}' holds strings; use {nameof(Strings)}");
            }
            lock (_gate)
            {
                _raw ??= LoadRaw();
                return _raw.Value;
            }
        }
    }

    /// <summary>The elements of a string tensor, as UTF-8 bytes.</summary>
    public IReadOnlyList<ByteString> Strings
    {
        get
        {
            if (DataType != TensorDataType.String)
            {
                throw new InvalidOperationException($"tensor '{Name}' is {DataType}, not string");
            }
            lock (_gate)
            {
                _strings ??= Origin != null ? [.. Origin.StringData] : [];
                return _strings;
            }
        }
    }

    /// <summary>A typed view of the data without copying. <typeparamref name="T"/> must match the element type.</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        if (!TensorDataTypes.IsViewableAs<T>(DataType))
        {
            throw new InvalidOperationException($"tensor '{Name}' is {DataType}; it cannot be viewed as {typeof(T).Name}");
        }
        return MemoryMarshal.Cast<byte, T>(RawData.Span);
    }

    /// <summary>A copy of the data as an array of <typeparamref name="T"/>.</summary>
    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>The data converted to float (float, float16, bfloat16, double and integer types).</summary>
    public float[] ToSingles()
    {
        var result = new float[ElementCount];
        switch (DataType)
        {
            case TensorDataType.Float: AsSpan<float>().CopyTo(result); break;
            case TensorDataType.Double: Convert(AsSpan<double>(), result, v => (float)v); break;
            case TensorDataType.Float16: Convert(AsSpan<Half>(), result, v => (float)v); break;
            case TensorDataType.BFloat16: Convert(AsSpan<ushort>(), result, v => BitConverter.Int32BitsToSingle(v << 16)); break;
            case TensorDataType.Int8: Convert(AsSpan<sbyte>(), result, v => v); break;
            case TensorDataType.UInt8: Convert(AsSpan<byte>(), result, v => v); break;
            case TensorDataType.Bool: Convert(AsSpan<byte>(), result, v => v != 0 ? 1f : 0f); break;
            case TensorDataType.Int16: Convert(AsSpan<short>(), result, v => v); break;
            case TensorDataType.UInt16: Convert(AsSpan<ushort>(), result, v => v); break;
            case TensorDataType.Int32: Convert(AsSpan<int>(), result, v => v); break;
            case TensorDataType.UInt32: Convert(AsSpan<uint>(), result, v => v); break;
            case TensorDataType.Int64: Convert(AsSpan<long>(), result, v => v); break;
            case TensorDataType.UInt64: Convert(AsSpan<ulong>(), result, v => v); break;
            default: throw new InvalidOperationException($"tensor '{Name}' of type {DataType} has no float conversion");
        }
        return result;
    }

    /// <summary>The data converted to int64 (integer and bool types).</summary>
    public long[] ToInt64s()
    {
        var result = new long[ElementCount];
        switch (DataType)
        {
            case TensorDataType.Int64: AsSpan<long>().CopyTo(result); break;
            case TensorDataType.Int32: Convert(AsSpan<int>(), result, v => v); break;
            case TensorDataType.Int16: Convert(AsSpan<short>(), result, v => v); break;
            case TensorDataType.Int8: Convert(AsSpan<sbyte>(), result, v => v); break;
            case TensorDataType.UInt8 or TensorDataType.Bool: Convert(AsSpan<byte>(), result, v => v); break;
            case TensorDataType.UInt16: Convert(AsSpan<ushort>(), result, v => v); break;
            case TensorDataType.UInt32: Convert(AsSpan<uint>(), result, v => v); break;
            case TensorDataType.UInt64: Convert(AsSpan<ulong>(), result, v => (long)v); break;
            default: throw new InvalidOperationException($"tensor '{Name}' of type {DataType} has no integer conversion");
        }
        return result;
    }

    private static void Convert<TIn, TOut>(ReadOnlySpan<TIn> input, Span<TOut> output, Func<TIn, TOut> f)
    {
        for (var i = 0; i < input.Length; i++) output[i] = f(input[i]);
    }

    /// <summary>A new tensor over a copy of <paramref name="data"/>.</summary>
    public static Tensor Create<T>(string name, long[] dims, ReadOnlySpan<T> data) where T : unmanaged
    {
        var type = TensorDataTypes.FromClr<T>();
        if (type == TensorDataType.Undefined) throw new ArgumentException($"{typeof(T).Name} is not a tensor element type");
        return FromRaw(name, type, dims, MemoryMarshal.AsBytes(data).ToArray());
    }

    /// <summary>A new tensor that takes ownership of <paramref name="data"/> (no copy).</summary>
    public static Tensor Create<T>(string name, long[] dims, T[] data) where T : unmanaged
    {
        var type = TensorDataTypes.FromClr<T>();
        if (type == TensorDataType.Undefined) throw new ArgumentException($"{typeof(T).Name} is not a tensor element type");
        return FromRaw(name, type, dims, ByteMemory<T>.Of(data));
    }

    /// <summary>A scalar (rank 0) tensor.</summary>
    public static Tensor Scalar<T>(string name, T value) where T : unmanaged => Create(name, [], new[] { value });

    /// <summary>A new tensor over raw little-endian bytes.</summary>
    public static Tensor FromRaw(string name, TensorDataType type, long[] dims, ReadOnlyMemory<byte> raw)
    {
        var t = new Tensor(name, type, (long[])dims.Clone()) { };
        if (raw.Length != t.ByteCount)
        {
            throw new ArgumentException($"tensor '{name}': {raw.Length} bytes given, {t.ByteCount} needed for {type}[{string.Join(",", dims)}]");
        }
        t._raw = raw;
        return t;
    }

    /// <summary>A new string tensor.</summary>
    public static Tensor FromStrings(string name, long[] dims, IEnumerable<string> values)
    {
        var t = new Tensor(name, TensorDataType.String, (long[])dims.Clone());
        t._strings = [.. values.Select(ByteString.CopyFromUtf8)];
        if (t._strings.Count != t.ElementCount) throw new ArgumentException($"tensor '{name}': {t._strings.Count} strings for {t.ElementCount} elements");
        return t;
    }

    /// <summary>The same data under another name (no copy).</summary>
    public Tensor WithName(string name)
    {
        if (name == Name) return this;
        var t = new Tensor(name, DataType, _dims) { External = External, Origin = Origin };
        lock (_gate)
        {
            t._raw = _raw;
            t._strings = _strings;
        }
        return t;
    }

    /// <summary>The same data with other dims of the same element count (no copy).</summary>
    public Tensor Reshape(long[] dims)
    {
        var t = DataType == TensorDataType.String
            ? FromStrings(Name, dims, Strings.Select(s => s.ToStringUtf8()))
            : FromRaw(Name, DataType, dims, RawData);
        if (t.ElementCount != ElementCount) throw new ArgumentException($"tensor '{Name}': cannot reshape {ElementCount} elements to [{string.Join(",", dims)}]");
        return t;
    }

    internal static Tensor FromProtoUnchecked(TensorProto proto) => new(proto.Name, (TensorDataType)proto.DataType, []) { Origin = proto };

    internal static Tensor FromProto(TensorProto proto, ExternalDataRef? external) =>
        new(proto.Name, (TensorDataType)proto.DataType, [.. proto.Dims]) { Origin = proto, External = external };

    /// <summary>Streams the raw bytes to <paramref name="output"/> without keeping them (external data is copied in chunks).</summary>
    internal void CopyRawTo(Stream output)
    {
        if (External != null && !HasMaterializedData)
        {
            using var input = new FileStream(External.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            input.Seek(External.Offset, SeekOrigin.Begin);
            var buffer = new byte[1 << 20];
            var left = External.Length;
            while (left > 0)
            {
                var n = input.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n == 0) throw new EndOfStreamException($"external data for '{Name}' ends early in '{External.FullPath}'");
                output.Write(buffer, 0, n);
                left -= n;
            }
            return;
        }
        output.Write(RawData.Span);
    }

    private ReadOnlyMemory<byte> LoadRaw()
    {
        if (External != null)
        {
            var buffer = GC.AllocateUninitializedArray<byte>(checked((int)External.Length));
            using var input = new FileStream(External.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            input.Seek(External.Offset, SeekOrigin.Begin);
            input.ReadExactly(buffer);
            return buffer;
        }
        if (Origin == null) return ReadOnlyMemory<byte>.Empty;
        return TensorProtoCodec.DecodeRaw(Origin, DataType, ElementCount);
    }

    public override string ToString() => $"{Name}: {TensorDataTypes.OnnxName(DataType)}[{string.Join(",", _dims)}]";
}
