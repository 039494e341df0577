using System.Runtime.InteropServices;

namespace EdgeOpt.Runtime.Native;

/// <summary>
/// The base of every owning handle to an ONNX Runtime object: invalid while zero, released once through the
/// object's own <c>Release*</c> function. Create the handle before the native call, then <see cref="Attach"/> the
/// pointer the call returns, so nothing is leaked between the two.
/// </summary>
internal abstract class OrtHandle(OrtApi api) : SafeHandle(0, ownsHandle: true)
{
    /// <summary>The function table of the library the object belongs to.</summary>
    internal OrtApi Api { get; } = api;

    public override bool IsInvalid => handle == 0;

    protected override void Dispose(bool disposing)
    {
        IsDisposed = true;
        base.Dispose(disposing);
    }

    /// <summary>Takes ownership of <paramref name="pointer"/> (zero leaves the handle invalid).</summary>
    internal void Attach(nint pointer) => SetHandle(pointer);

    /// <summary>The raw pointer; only valid while the handle is referenced (see <see cref="Lease"/>).</summary>
    internal nint Pointer => handle;

    /// <summary>
    /// Whether the owner disposed the handle. The native object may live on while leases taken before are held, but
    /// no new lease is given.
    /// </summary>
    internal bool IsDisposed { get; private set; }

    /// <summary>Keeps the handle from being released until the returned lease is disposed; gives the pointer.</summary>
    /// <exception cref="ObjectDisposedException">The handle was disposed.</exception>
    internal Lease Use()
    {
        ObjectDisposedException.ThrowIf(IsDisposed || IsClosed, this);
        var added = false;
        DangerousAddRef(ref added);
        return new Lease(this, added);
    }

    /// <summary>A reference held on a handle for the span of a native call.</summary>
    internal readonly struct Lease(SafeHandle owner, bool added) : IDisposable
    {
        public nint Pointer => owner?.DangerousGetHandle() ?? 0;

        public void Dispose()
        {
            if (added) owner.DangerousRelease();
        }
    }
}

internal sealed unsafe class EnvHandle(OrtApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseEnv(handle);
        return true;
    }
}

internal sealed unsafe class SessionOptionsHandle(OrtApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseSessionOptions(handle);
        return true;
    }
}

/// <summary>
/// An <c>OrtSession*</c>, and the native block of its input/output names (null-terminated UTF-8) that every run
/// passes to ONNX Runtime: the block is freed only after the session, so a run in flight never sees it freed.
/// </summary>
internal sealed unsafe class SessionHandle(OrtApi api) : OrtHandle(api)
{
    private void* _names;

    /// <summary>Takes ownership of a block allocated with <see cref="NativeMemory.Alloc(nuint)"/>.</summary>
    internal void KeepNames(void* block) => _names = block;

    protected override bool ReleaseHandle()
    {
        Api.ReleaseSession(handle);
        NativeMemory.Free(_names);
        _names = null;
        return true;
    }
}

internal sealed unsafe class RunOptionsHandle(OrtApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseRunOptions(handle);
        return true;
    }
}

internal sealed unsafe class MemoryInfoHandle(OrtApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseMemoryInfo(handle);
        return true;
    }
}

internal sealed unsafe class IoBindingHandle(OrtApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseIoBinding(handle);
        return true;
    }
}

internal sealed unsafe class TypeInfoHandle(OrtApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseTypeInfo(handle);
        return true;
    }
}

internal sealed unsafe class TensorTypeAndShapeInfoHandle(OrtApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseTensorTypeAndShapeInfo(handle);
        return true;
    }
}

internal sealed unsafe class ModelMetadataHandle(OrtApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseModelMetadata(handle);
        return true;
    }
}

internal sealed unsafe class CudaProviderOptionsHandle(OrtApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseCUDAProviderOptions(handle);
        return true;
    }
}

internal sealed unsafe class TensorRTProviderOptionsHandle(OrtApi api) : OrtHandle(api)
{
    protected override bool ReleaseHandle()
    {
        Api.ReleaseTensorRTProviderOptions(handle);
        return true;
    }
}

/// <summary>
/// An <c>OrtValue*</c>, and the pinned managed buffer behind it when the tensor was created over managed memory:
/// the buffer is unpinned only after the value is released, so ONNX Runtime never sees freed memory.
/// </summary>
internal sealed unsafe class ValueHandle(OrtApi api) : OrtHandle(api)
{
    private GCHandle _pin;

    /// <summary>Keeps <paramref name="pin"/> until the value is released.</summary>
    internal void KeepPinned(GCHandle pin) => _pin = pin;

    protected override bool ReleaseHandle()
    {
        Api.ReleaseValue(handle);
        if (_pin.IsAllocated) _pin.Free();
        return true;
    }
}
