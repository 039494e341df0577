using EdgeOpt.Runtime;

namespace EdgeOpt.Passes.Tests;

/// <summary>The ONNX Runtime library the pass tests check rewrites with: loaded once, or an ignored test when it is absent.</summary>
internal static class OrtTestLibrary
{
    private static readonly Lazy<OrtLibrary?> Loaded = new(() =>
    {
        try
        {
            return OrtLibrary.Load();
        }
        catch (OrtLibraryNotFoundException)
        {
            return null;
        }
    });

    /// <summary>The library, or an ignored test when it is absent.</summary>
    public static OrtLibrary Library
    {
        get
        {
            if (Loaded.Value is { } lib) return lib;
            Assert.Ignore("ONNX Runtime is absent: run `./build.sh --target=FetchAssets` to fetch it.");
            throw new InvalidOperationException("unreachable");
        }
    }
}
