namespace EdgeOpt.Runtime.Tests;

public class OrtLibraryTests
{
    [Test]
    public void Load_DefaultSearch_ReadsVersionAndApiVersion()
    {
        var library = Ort.Library;

        Assert.That(library.Version, Does.Match(@"^\d+\.\d+\.\d+"));
        Assert.That(library.ApiVersion, Is.GreaterThanOrEqualTo(OrtLibrary.MinimumApiVersion));
        if (library.Version.StartsWith("1.", StringComparison.Ordinal))
        {
            Assert.That(library.ApiVersion, Is.EqualTo(int.Parse(library.Version.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)),
                "ONNX Runtime 1.N serves C API version N");
        }
        Assert.That(File.Exists(library.Path), Is.True, library.Path);
    }

    [Test]
    public void Load_FetchedLibrary_IsVersion130()
    {
        var path = EdgeOpt.TestKit.TestPaths.RequireArtifact("onnxruntime", OrtLibrary.RuntimeId, "libonnxruntime.so.1");

        var library = OrtLibrary.Load(path);

        Assert.That(library.Version, Is.EqualTo("1.30.0"));
        Assert.That(library.ApiVersion, Is.EqualTo(30));
    }

    [Test]
    public void AvailableProviders_CpuLibrary_IncludeCpuExecutionProvider()
    {
        var library = Ort.Library;

        Assert.That(library.AvailableProviders, Does.Contain("CPUExecutionProvider"));
        Assert.That(library.HasProvider("cpu"), Is.True);
        Assert.That(library.HasProvider("CPUExecutionProvider"), Is.True);
    }

    [Test]
    public void Load_SameFileTwice_ReturnsTheCachedInstance()
    {
        var library = Ort.Library;

        Assert.That(OrtLibrary.Load(library.Path), Is.SameAs(library));
        Assert.That(OrtLibrary.Load(Path.GetDirectoryName(library.Path)!), Is.SameAs(library), "a folder holding the library");
        Assert.That(OrtLibrary.Load(), Is.SameAs(library));
    }

    [Test]
    public void Load_SymbolicLinkToTheSameFile_ReturnsTheCachedInstance()
    {
        var library = Ort.Library;
        var folder = Directory.CreateTempSubdirectory("edgeopt-ort-link-").FullName;
        try
        {
            var link = Path.Combine(folder, "libonnxruntime.so");
            File.CreateSymbolicLink(link, library.Path);

            Assert.That(OrtLibrary.Load(link), Is.SameAs(library));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Load_ConcurrentCallers_GetOneInstance()
    {
        var path = Ort.Library.Path;

        var loaded = Enumerable.Range(0, 8).AsParallel().Select(_ => OrtLibrary.Load(path)).ToList();

        Assert.That(loaded.Distinct().Count(), Is.EqualTo(1));
    }

    [Test]
    public void Load_MissingExplicitFile_ListsTheTriedPathAndHowToProvision()
    {
        var missing = Path.Combine(Path.GetTempPath(), "edgeopt-no-such-dir", "libonnxruntime.so.1");

        var e = Assert.Throws<OrtLibraryNotFoundException>(() => OrtLibrary.Load(missing))!;

        Assert.That(e.TriedPaths, Has.Count.EqualTo(1));
        Assert.That(e.TriedPaths[0], Does.Contain(missing).And.Contain("no such file"));
        Assert.That(e.Message, Does.Contain(missing));
        Assert.That(e.Message, Does.Contain("./build.sh --target=FetchAssets").And.Contain("--ort-lib PATH"));
    }

    [Test]
    public void Load_FolderWithoutLibrary_ListsEveryFileNameTried()
    {
        var folder = Directory.CreateTempSubdirectory("edgeopt-ort-empty-").FullName;
        try
        {
            var e = Assert.Throws<OrtLibraryNotFoundException>(() => OrtLibrary.Load(folder))!;

            Assert.That(e.TriedPaths, Has.Count.EqualTo(2));
            Assert.That(e.TriedPaths, Has.Some.Contain(Path.Combine(folder, "libonnxruntime.so.1")));
            Assert.That(e.TriedPaths, Has.Some.Contain(Path.Combine(folder, "libonnxruntime.so")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Load_FileThatIsNotALibrary_SaysItCouldNotBeLoaded()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("edgeopt-ort-bad-").FullName, "libonnxruntime.so.1");
        File.WriteAllText(file, "not an ELF file");
        try
        {
            var e = Assert.Throws<OrtLibraryNotFoundException>(() => OrtLibrary.Load(file))!;

            Assert.That(e.TriedPaths.Single(), Does.Contain(file).And.Contain("could not be loaded"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    [Test]
    public void SearchPaths_IncludeArtifactsFolderAndSystemLoaderLast()
    {
        var paths = OrtLibrary.SearchPaths();

        Assert.That(paths[0], Is.EqualTo(Path.Combine(AppContext.BaseDirectory, "onnxruntime", OrtLibrary.RuntimeId, "libonnxruntime.so.1")));
        Assert.That(paths, Has.Some.EqualTo(Path.Combine(EdgeOpt.TestKit.TestPaths.RepoRoot, "artifacts", "onnxruntime", OrtLibrary.RuntimeId, "libonnxruntime.so.1")));
        Assert.That(paths.Skip(paths.Count - 2), Is.EqualTo(new[] { "libonnxruntime.so.1", "libonnxruntime.so" }));
    }

    [Test]
    public void LogLevel_ChangedAfterTheEnvironmentExists_UpdatesIt()
    {
        var library = Ort.Library;
        using (Ort.Session(TestModels.MatMulAddRelu())) { }
        var before = library.LogLevel;
        try
        {
            library.LogLevel = OrtLoggingLevel.Fatal;

            Assert.That(library.IsEnvironmentCreated, Is.True);
            Assert.That(library.LogLevel, Is.EqualTo(OrtLoggingLevel.Fatal));
        }
        finally
        {
            library.LogLevel = before;
        }
    }
}
