using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using EdgeOpt.Runtime.Native;

namespace EdgeOpt.Runtime;

/// <summary>
/// An ONNX Runtime value: a tensor created here (over pinned managed memory, or a string tensor), or an output of a
/// run. Tensors are read through typed spans over the native data, valid until the value is disposed. Values that are
/// not tensors (sequences, maps) can be passed along and their <see cref="Kind"/> read, but their contents are not
/// readable through this binding.
/// </summary>
public sealed unsafe class OrtValue : IDisposable
{
    private readonly ValueHandle _handle;
    private readonly string? _label;
    private Info? _info;

    internal OrtValue(OrtLibrary library, ValueHandle handle, string? label = null)
    {
        Library = library;
        _handle = handle;
        _label = label;
    }

    /// <summary>The library this value belongs to.</summary>
    public OrtLibrary Library { get; }

    /// <summary>Tensor, sequence, map, …</summary>
    public OnnxValueKind Kind => GetInfo().Kind;

    /// <summary>Whether the value is a dense tensor.</summary>
    public bool IsTensor => Kind == OnnxValueKind.Tensor;

    /// <summary>The tensor's element type.</summary>
    /// <exception cref="InvalidOperationException">The value is not a tensor.</exception>
    public OnnxElementType ElementType => TensorInfo().ElementType;

    /// <summary>The tensor's dimensions.</summary>
    /// <exception cref="InvalidOperationException">The value is not a tensor.</exception>
    public IReadOnlyList<long> Shape => TensorInfo().Shape;

    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    /// <exception cref="InvalidOperationException">The value is not a tensor.</exception>
    public long ElementCount => TensorInfo().ElementCount;

    internal ValueHandle Handle => _handle;

    /// <summary>
    /// A tensor over <paramref name="data"/> without copying: the array is pinned until the value is disposed, and
    /// ONNX Runtime reads (and, for bound outputs, writes) it in place.
    /// </summary>
    /// <typeparam name="T">float, double, Half, sbyte, byte, short, ushort, int, uint, long, ulong or bool.</typeparam>
    /// <exception cref="ArgumentException">The shape has a negative dimension or does not match the data's length.</exception>
    public static OrtValue CreateTensor<T>(OrtLibrary library, T[] data, ReadOnlySpan<long> shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(data);
        var type = ElementTypes.Of<T>();
        CheckShape(shape, data.LongLength);
        return OverPinned(library, data, (nuint)data.LongLength * (nuint)sizeof(T), shape, type);
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    /// <typeparam name="T">float, double, Half, sbyte, byte, short, ushort, int, uint, long, ulong or bool.</typeparam>
    public static OrtValue CreateTensor<T>(OrtLibrary library, ReadOnlySpan<T> data, ReadOnlySpan<long> shape) where T : unmanaged =>
        CreateTensor(library, data.ToArray(), shape);

    /// <summary>
    /// A tensor of element type <paramref name="type"/> holding a copy of <paramref name="rawData"/>, the elements as
    /// little-endian bytes in row-major order (as in ONNX's <c>TensorProto.raw_data</c>).
    /// </summary>
    /// <exception cref="ArgumentException">String type, or the byte count does not fit the shape and type.</exception>
    public static OrtValue CreateTensor(OrtLibrary library, OnnxElementType type, ReadOnlySpan<byte> rawData, ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(library);
        if (type == OnnxElementType.String) throw new ArgumentException("string tensors are made with CreateStringTensor", nameof(type));
        var count = CheckShape(shape, null);
        var expected = ElementTypes.ByteCount(type, count);
        if (rawData.Length != expected)
        {
            throw new ArgumentException(
                $"{type}[{string.Join(",", shape.ToArray())}] needs {expected} bytes, not {rawData.Length}", nameof(rawData));
        }
        var copy = rawData.ToArray();
        return OverPinned(library, copy, (nuint)copy.Length, shape, type);
    }

    /// <summary>A string tensor of shape <paramref name="shape"/> holding <paramref name="values"/> (UTF-8 inside ONNX Runtime).</summary>
    public static OrtValue CreateStringTensor(OrtLibrary library, IReadOnlyList<string> values, ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(library);
        ArgumentNullException.ThrowIfNull(values);
        CheckShape(shape, values.Count);
        var api = library.Api;
        var handle = new ValueHandle(api);
        try
        {
            nint p;
            fixed (long* dims = shape)
            {
                api.Check(api.CreateTensorAsOrtValue(library.DefaultAllocator, dims, (nuint)shape.Length, (int)OnnxElementType.String, &p));
            }
            handle.Attach(p);
            var strings = Utf8.AllocArray(values);
            try
            {
                api.Check(api.FillStringTensor(p, strings, (nuint)values.Count));
            }
            finally
            {
                Utf8.FreeArray(strings, values.Count);
            }
            return new OrtValue(library, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The tensor's elements as <typeparamref name="T"/>, read in place: valid until this value is disposed.
    /// </summary>
    /// <exception cref="InvalidOperationException">Not a tensor, a string tensor, or <typeparamref name="T"/> does not match <see cref="ElementType"/>.</exception>
    public ReadOnlySpan<T> GetTensorData<T>() where T : unmanaged => GetTensorMutableData<T>();

    /// <summary>The tensor's elements as a writable span (e.g. to fill an input in place); valid until disposed.</summary>
    public Span<T> GetTensorMutableData<T>() where T : unmanaged
    {
        var info = TensorInfo();
        var wanted = ElementTypes.Of<T>();
        if (wanted != info.ElementType)
        {
            throw new InvalidOperationException(
                $"{Describe()} holds {info.ElementType} elements; read it as {ElementTypes.ClrName(info.ElementType)}, not {typeof(T).Name}");
        }
        return new Span<T>(DataPointer(), checked((int)info.ElementCount));
    }

    /// <summary>The tensor's data as raw little-endian bytes, in place (any numeric element type).</summary>
    public ReadOnlySpan<byte> GetTensorBytes()
    {
        var info = TensorInfo();
        if (info.ElementType == OnnxElementType.String) throw new InvalidOperationException($"{Describe()} holds strings; use GetStrings");
        return new ReadOnlySpan<byte>(DataPointer(), checked((int)ElementTypes.ByteCount(info.ElementType, info.ElementCount)));
    }

    /// <summary>A copy of the tensor's elements.</summary>
    public T[] ToArray<T>() where T : unmanaged => GetTensorData<T>().ToArray();

    /// <summary>The elements of a string tensor (decoded from UTF-8).</summary>
    /// <exception cref="InvalidOperationException">Not a string tensor.</exception>
    public string[] GetStrings()
    {
        var info = TensorInfo();
        if (info.ElementType != OnnxElementType.String)
        {
            throw new InvalidOperationException($"{Describe()} holds {info.ElementType} elements, not strings");
        }
        var count = checked((int)info.ElementCount);
        if (count == 0) return [];
        var api = Library.Api;
        using var lease = _handle.Use();
        nuint length;
        api.Check(api.GetStringTensorDataLength(lease.Pointer, &length));
        var bytes = new byte[(int)length];
        var offsets = new nuint[count];
        fixed (byte* b = bytes)
        fixed (nuint* o = offsets)
        {
            api.Check(api.GetStringTensorContent(lease.Pointer, b, length, o, (nuint)count));
        }
        var result = new string[count];
        for (var i = 0; i < count; i++)
        {
            var start = (int)offsets[i];
            var end = i + 1 < count ? (int)offsets[i + 1] : bytes.Length;
            result[i] = Encoding.UTF8.GetString(bytes, start, end - start);
        }
        return result;
    }

    /// <summary>Releases the native value and unpins the managed buffer behind it; spans read from it become invalid.</summary>
    public void Dispose() => _handle.Dispose();

    /// <summary>E.g. <c>Float[1,3,224,224]</c>, or the kind for non-tensors.</summary>
    public override string ToString()
    {
        if (_handle.IsDisposed) return "(disposed OrtValue)";
        var info = GetInfo();
        return info.Kind != OnnxValueKind.Tensor
            ? info.Kind.ToString()
            : $"{info.ElementType}[{string.Join(",", info.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)))}]";
    }

    private static OrtValue OverPinned(OrtLibrary library, Array data, nuint byteCount, ReadOnlySpan<long> shape, OnnxElementType type)
    {
        var api = library.Api;
        var pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        var handle = new ValueHandle(api);
        try
        {
            nint p;
            using (var memory = library.CpuMemoryInfo.Use())
            fixed (long* dims = shape)
            {
                api.Check(api.CreateTensorWithDataAsOrtValue(memory.Pointer, (void*)pin.AddrOfPinnedObject(), byteCount,
                    dims, (nuint)shape.Length, (int)type, &p));
            }
            handle.Attach(p);
            handle.KeepPinned(pin);
            return new OrtValue(library, handle);
        }
        catch
        {
            handle.Dispose();
            pin.Free();
            throw;
        }
    }

    private static long CheckShape(ReadOnlySpan<long> shape, long? elements)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"shape [{string.Join(",", shape.ToArray())}] has a negative dimension", nameof(shape));
            count = checked(count * d);
        }
        if (elements is { } n && n != count)
        {
            throw new ArgumentException($"shape [{string.Join(",", shape.ToArray())}] holds {count} elements but the data has {n}", nameof(shape));
        }
        return count;
    }

    private void* DataPointer()
    {
        using var lease = _handle.Use();
        void* data;
        Library.Api.Check(Library.Api.GetTensorMutableData(lease.Pointer, &data));
        return data;
    }

    private string Describe() => _label != null ? $"output '{_label}'" : "the value";

    private Info TensorInfo()
    {
        var info = GetInfo();
        if (info.Kind != OnnxValueKind.Tensor)
        {
            throw new InvalidOperationException(
                $"{Describe()} is a {info.Kind}, not a tensor: EdgeOpt reads tensor values only " +
                "(change the model to output tensors, e.g. with ConcatFromSequence for a sequence)");
        }
        return info;
    }

    private Info GetInfo()
    {
        if (_info != null) return _info;
        var api = Library.Api;
        using var lease = _handle.Use();
        int kind;
        api.Check(api.GetValueType(lease.Pointer, &kind));
        if ((OnnxValueKind)kind != OnnxValueKind.Tensor) return _info = new Info((OnnxValueKind)kind, OnnxElementType.Undefined, [], 0);
        using var shapeInfo = new TensorTypeAndShapeInfoHandle(api);
        nint si;
        api.Check(api.GetTensorTypeAndShape(lease.Pointer, &si));
        shapeInfo.Attach(si);
        var (type, dims, _) = TensorShapeInfo.Read(api, si, withSymbols: false);
        nuint count;
        api.Check(api.GetTensorShapeElementCount(si, &count));
        return _info = new Info(OnnxValueKind.Tensor, type, dims, (long)count);
    }

    private sealed record Info(OnnxValueKind Kind, OnnxElementType ElementType, IReadOnlyList<long> Shape, long ElementCount);
}
