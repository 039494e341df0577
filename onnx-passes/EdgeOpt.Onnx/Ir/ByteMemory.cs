using System.Buffers;
using System.Runtime.InteropServices;

namespace EdgeOpt.Onnx.Ir;

/// <summary>Views a typed array as <see cref="Memory{T}"/> of bytes without copying.</summary>
internal sealed class ByteMemory<T>(T[] array) : MemoryManager<byte> where T : unmanaged
{
    private GCHandle _pin;

    public static ReadOnlyMemory<byte> Of(T[] array) => new ByteMemory<T>(array).Memory;

    public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(array.AsSpan());

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        if (!_pin.IsAllocated) _pin = GCHandle.Alloc(array, GCHandleType.Pinned);
        return new MemoryHandle((byte*)_pin.AddrOfPinnedObject() + elementIndex, default, this);
    }

    public override void Unpin()
    {
        if (_pin.IsAllocated) _pin.Free();
    }

    protected override void Dispose(bool disposing) => Unpin();
}
