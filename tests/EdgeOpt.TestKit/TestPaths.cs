namespace EdgeOpt.TestKit;

/// <summary>Where the repository, the shared corpus beside it and the build's fetched artifacts live.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    /// <summary>The repository root (the folder holding EdgeOpt.sln).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>../shared beside the repository: real models, backend tests, data.</summary>
    public static string SharedDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>artifacts/ under the repository root, filled by the build (models, ONNX Runtime).</summary>
    public static string ArtifactsDir => Path.Combine(RepoRoot, "artifacts");

    /// <summary>A path under ../shared, or an ignored test when that folder is absent.</summary>
    public static string RequireShared(params string[] parts)
    {
        var path = Path.Combine([SharedDir, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            Assert.Ignore($"'{path}' is absent: the shared corpus (../shared beside the repository) is needed for this test.");
        }
        return path;
    }

    /// <summary>A path under artifacts/, or an ignored test when the build has not fetched it.</summary>
    public static string RequireArtifact(params string[] parts)
    {
        var path = Path.Combine([ArtifactsDir, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            Assert.Ignore($"'{path}' is absent: run `./build.sh --target=FetchAssets` (the Test target does it) to fetch it.");
        }
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeOpt.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"EdgeOpt.sln not found above '{AppContext.BaseDirectory}'.");
    }
}
