using System.Formats.Tar;
using System.IO.Compression;
using EdgeOpt.Targets;

namespace EdgeOpt.Targets.Tests;

public class DeploymentBundleTests
{
    private DirectoryInfo _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("edgeopt-bundle-tests-");

    [TearDown]
    public void TearDown() => _dir.Delete(recursive: true);

    private string PathOf(params string[] parts) => Path.Combine([_dir.FullName, .. parts]);

    /// <summary>A fake ELF shared library header for <paramref name="machine"/> (little-endian).</summary>
    private string FakeLibrary(ElfMachine machine)
    {
        var bytes = new byte[64];
        bytes[0] = 0x7F; bytes[1] = (byte)'E'; bytes[2] = (byte)'L'; bytes[3] = (byte)'F'; bytes[4] = 2; bytes[5] = 1;
        bytes[18] = (byte)((ushort)machine & 0xFF); bytes[19] = (byte)((ushort)machine >> 8);
        var path = PathOf($"lib-{machine}.so");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private BundleRequest Request(ElfMachine library, string target = "rpi4")
    {
        Directory.CreateDirectory(PathOf("model", "weights"));
        File.WriteAllText(PathOf("model", "m.onnx"), "model bytes");
        File.WriteAllText(PathOf("model", "weights", "m.data"), "external data");
        Directory.CreateDirectory(PathOf("app", "profiles"));
        File.WriteAllText(PathOf("app", "edgeopt.dll"), "runner");
        File.WriteAllText(PathOf("app", "edgeopt.pdb"), "symbols, not shipped");
        Directory.CreateDirectory(PathOf("samples", "test_data_set_0"));
        File.WriteAllText(PathOf("samples", "test_data_set_0", "input_0.pb"), "tensor");
        var profile = TargetProfiles.Find(target, ["arm64", "arm64-dotprod", "x64-avx2", "x64-avx512-vnni"]);
        return new BundleRequest([(PathOf("model", "m.onnx"), "m.onnx"), (PathOf("model", "weights", "m.data"), "weights/m.data")], profile,
            PathOf("app"), FakeLibrary(library), PathOf("samples"), PathOf("out", "bundle"));
    }

    [Test]
    public void Create_LaysOutTheBundle_ManifestHashesEveryFile_ArchiveMatches()
    {
        var result = DeploymentBundle.Create(Request(ElfMachine.Arm64));

        Assert.That(result.Manifest.Files.Select(f => f.Path), Is.EquivalentTo(new[]
        {
            "app/edgeopt.dll", "model/m.onnx", "model/weights/m.data", "onnxruntime/libonnxruntime.so.1", "run.sh",
            "samples/test_data_set_0/input_0.pb", "target.yaml",
        }));
        Assert.That((result.Manifest.Target, result.Manifest.Rid, result.Manifest.Model), Is.EqualTo(("rpi4", "linux-arm64", "model/m.onnx")));
        Assert.That(DeploymentBundle.Verify(result.Directory), Is.Empty);
        Assert.That(DeploymentBundle.ReadElfMachine(Path.Combine(result.Directory, "onnxruntime", "libonnxruntime.so.1")), Is.EqualTo(ElfMachine.Arm64));
        var run = File.ReadAllText(Path.Combine(result.Directory, "run.sh"));
        Assert.That(run, Does.StartWith("#!/bin/sh").And.Contain("Microsoft.NETCore.App 10").And.Contain("aarch64").And.Contain("--target \"$here/target.yaml\""));
        Assert.That(Directory.GetDirectories(PathOf("out")), Has.Length.EqualTo(1), "no staging folder left behind");

        var unpacked = PathOf("unpacked");
        DeploymentBundle.ExtractSafely(result.Archive, unpacked);
        Assert.That(DeploymentBundle.Verify(unpacked), Is.Empty, "the archive holds the same files as the folder");
    }

    [Test]
    public void Verify_TamperedOrExtraFile_Reported()
    {
        var result = DeploymentBundle.Create(Request(ElfMachine.Arm64));
        File.AppendAllText(Path.Combine(result.Directory, "model", "m.onnx"), "!");
        File.WriteAllText(Path.Combine(result.Directory, "model", "stray.txt"), "?");

        Assert.That(DeploymentBundle.Verify(result.Directory), Is.EquivalentTo(new[] { "model/m.onnx: contents differ from the manifest", "model/stray.txt: not in the manifest" }));
    }

    [Test]
    public void Create_LibraryForTheWrongMachine_RefusedAndNothingWritten()
    {
        Assert.That(() => DeploymentBundle.Create(Request(ElfMachine.X64)), Throws.ArgumentException.With.Message.Contains("needs AArch64"));
        Assert.That(Directory.Exists(PathOf("out")) ? Directory.GetFileSystemEntries(PathOf("out")) : [], Is.Empty);
    }

    [Test]
    public void Create_ExistingOutput_Refused()
    {
        var request = Request(ElfMachine.X64, target: "x64-cpu");
        Directory.CreateDirectory(request.Output);

        Assert.That(() => DeploymentBundle.Create(request), Throws.ArgumentException.With.Message.Contains("already exists"));
    }

    [TestCase("../evil.sh")]
    [TestCase("/etc/evil")]
    [TestCase("model/../../evil")]
    public void ExtractSafely_EscapingEntry_RefusedBeforeWriting(string name)
    {
        var archive = PathOf("bad.tar.gz");
        using (var stream = File.Create(archive))
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "ok.txt") { DataStream = new MemoryStream([1]) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream([2]) });
        }

        Assert.That(() => DeploymentBundle.ExtractSafely(archive, PathOf("dest")), Throws.TypeOf<InvalidDataException>().With.Message.Contains("outside the destination"));
        Assert.That(File.Exists(PathOf("dest", "ok.txt")), Is.False, "checked before anything is written");
    }

    [Test]
    public void ExtractSafely_SymbolicLink_Refused()
    {
        var archive = PathOf("link.tar.gz");
        using (var stream = File.Create(archive))
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "lib") { LinkName = "/usr/lib" });
        }

        Assert.That(() => DeploymentBundle.ExtractSafely(archive, PathOf("dest")), Throws.TypeOf<InvalidDataException>().With.Message.Contains("SymbolicLink"));
    }

    [TestCase("a/b.txt", true)]
    [TestCase("../a", false)]
    [TestCase("/a", false)]
    [TestCase("a//b", false)]
    [TestCase("a/./b", false)]
    [TestCase("a\\b", false)]
    public void IsSafeRelative(string path, bool safe) => Assert.That(DeploymentBundle.IsSafeRelative(path), Is.EqualTo(safe));
}
