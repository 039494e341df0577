using System.Runtime.InteropServices;
using System.Text;

namespace EdgeOpt.Runtime.Native;

/// <summary>UTF-8 strings for the C API: null-terminated byte arrays to pin, and native buffers to free.</summary>
internal static unsafe class Utf8
{
    /// <summary>The UTF-8 bytes of <paramref name="s"/> followed by a zero byte, ready for <c>fixed</c>.</summary>
    public static byte[] NullTerminated(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    /// <summary>A platform path for the C API: UTF-8 on Unix, UTF-16 (wchar_t) on Windows; null-terminated.</summary>
    public static byte[] PlatformPath(string path) =>
        OperatingSystem.IsWindows() ? Encoding.Unicode.GetBytes(path + "\0") : NullTerminated(path);

    /// <summary>A copy of the null-terminated UTF-8 string at <paramref name="p"/> (empty for null).</summary>
    public static string Read(byte* p) => p == null ? "" : Marshal.PtrToStringUTF8((nint)p) ?? "";

    /// <summary>
    /// An array of native null-terminated UTF-8 copies of <paramref name="strings"/>, laid out as a <c>char**</c>;
    /// free with <see cref="FreeArray"/>.
    /// </summary>
    public static byte** AllocArray(IReadOnlyList<string> strings)
    {
        var array = (byte**)NativeMemory.AllocZeroed((nuint)Math.Max(strings.Count, 1), (nuint)sizeof(nint));
        try
        {
            for (var i = 0; i < strings.Count; i++) array[i] = (byte*)Marshal.StringToCoTaskMemUTF8(strings[i]);
        }
        catch
        {
            FreeArray(array, strings.Count);
            throw;
        }
        return array;
    }

    /// <summary>Frees an array made by <see cref="AllocArray"/>.</summary>
    public static void FreeArray(byte** array, int count)
    {
        if (array == null) return;
        for (var i = 0; i < count; i++) Marshal.FreeCoTaskMem((nint)array[i]);
        NativeMemory.Free(array);
    }
}
