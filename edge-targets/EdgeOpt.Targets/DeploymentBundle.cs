using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EdgeOpt.Targets;

/// <summary>What goes into a bundle.</summary>
/// <param name="ModelFiles">The model file first, then its external-data files, each with its path relative to the model's folder.</param>
/// <param name="Target">The board's profile (copied in as target.yaml-or-json; run.sh runs as it says).</param>
/// <param name="AppDirectory">The framework-dependent edgeopt app (its .dll files, deps.json, runtimeconfig.json, profiles/).</param>
/// <param name="OrtLibrary">The ONNX Runtime library built for the target's RID.</param>
/// <param name="SamplesDirectory">Sample inputs in the ONNX test-data layout (test_data_set_k/input_i.pb), copied as samples/.</param>
/// <param name="Output">The bundle folder to create (it must not exist yet); the archive goes beside it as Output.tar.gz.</param>
public sealed record BundleRequest(
    IReadOnlyList<(string Source, string Relative)> ModelFiles,
    TargetProfile Target,
    string AppDirectory,
    string OrtLibrary,
    string SamplesDirectory,
    string Output);

/// <summary>One file of a bundle: its path inside the bundle ('/'-separated), size and SHA-256.</summary>
public sealed record BundleFile(string Path, long Bytes, string Sha256);

/// <summary>The manifest (manifest.json) of a bundle: what it is for and a hash of every other file.</summary>
public sealed record BundleManifest(string Format, string Model, string Target, string Rid, string OrtLibrary, IReadOnlyList<BundleFile> Files);

/// <summary>A bundle written: its folder, its .tar.gz and its manifest.</summary>
public sealed record BundleResult(string Directory, string Archive, BundleManifest Manifest);

/// <summary>
/// A self-contained deployment folder for one board: <c>model/</c>, <c>onnxruntime/</c> (the library for the board's RID),
/// <c>app/</c> (the edgeopt runner, framework-dependent), <c>samples/</c>, the target profile, <c>run.sh</c> (checks for the .NET
/// runtime, then benchmarks the model as the profile says and writes result.json) and <c>manifest.json</c> with the SHA-256 of
/// every file; plus the same as a .tar.gz. Written to a temporary folder and moved into place; archives are unpacked only by
/// <see cref="ExtractSafely"/>, which refuses absolute paths, <c>..</c> and links.
/// </summary>
public static class DeploymentBundle
{
    public const string Format = "edgeopt-bundle/1";
    public const string ManifestName = "manifest.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Writes the bundle folder and its archive.</summary>
    /// <exception cref="ArgumentException">The output exists, an input is missing, or the library is not for the target's machine.</exception>
    public static BundleResult Create(BundleRequest request)
    {
        var output = Path.GetFullPath(request.Output);
        var archive = output + ".tar.gz";
        if (Directory.Exists(output) || File.Exists(output)) throw new ArgumentException($"'{output}' already exists: choose a new bundle folder (-o) or remove it");
        if (request.ModelFiles.Count == 0 || request.ModelFiles.Any(f => !File.Exists(f.Source))) throw new ArgumentException("the model file (or one of its external-data files) is missing");
        if (request.ModelFiles.Any(f => !IsSafeRelative(f.Relative.Replace('\\', '/')))) throw new ArgumentException("a model file's path leaves the model's folder; bundles hold only files inside it");
        if (!File.Exists(request.OrtLibrary))
        {
            throw new ArgumentException($"no ONNX Runtime library for {request.Target.Rid} at '{request.OrtLibrary}': run ./build.sh --target=FetchAssets (it fetches linux-x64 and linux-arm64), or pass --ort-lib-for-target PATH");
        }
        var expected = request.Target.IsArm64 ? ElfMachine.Arm64 : ElfMachine.X64;
        var machine = ReadElfMachine(request.OrtLibrary);
        if (machine != expected)
        {
            throw new ArgumentException($"'{request.OrtLibrary}' is built for {Describe(machine)}, but target {request.Target.Name} ({request.Target.Rid}) needs {Describe(expected)}");
        }
        if (!File.Exists(Path.Combine(request.AppDirectory, "edgeopt.dll"))) throw new ArgumentException($"'{request.AppDirectory}' holds no edgeopt.dll to ship as the runner");

        var parent = Path.GetDirectoryName(output)!;
        Directory.CreateDirectory(parent);
        var staging = Directory.CreateDirectory(Path.Combine(parent, $".{Path.GetFileName(output)}.tmp-{Guid.NewGuid():N}")).FullName;
        try
        {
            var modelName = request.ModelFiles[0].Relative;
            foreach (var (source, relative) in request.ModelFiles) Copy(source, Path.Combine(staging, "model", relative));
            Copy(request.OrtLibrary, Path.Combine(staging, "onnxruntime", "libonnxruntime.so.1"));
            CopyTree(request.AppDirectory, Path.Combine(staging, "app"), skip: name => name.EndsWith(".pdb", StringComparison.Ordinal) || name.EndsWith(".xml", StringComparison.Ordinal));
            CopyTree(request.SamplesDirectory, Path.Combine(staging, "samples"), skip: _ => false);
            var profileName = "target" + Path.GetExtension(request.Target.Source);
            Copy(request.Target.Source, Path.Combine(staging, profileName));
            File.WriteAllText(Path.Combine(staging, "run.sh"), RunScript(request.Target, modelName, profileName), new UTF8Encoding(false));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(staging, "run.sh"), (UnixFileMode)0b111_101_101);

            var files = Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(staging, f).Replace('\\', '/'))
                .Order(StringComparer.Ordinal)
                .Select(rel => new BundleFile(rel, new FileInfo(Path.Combine(staging, rel)).Length, Sha256(Path.Combine(staging, rel))))
                .ToList();
            var manifest = new BundleManifest(Format, $"model/{modelName}", request.Target.Name, request.Target.Rid, "onnxruntime/libonnxruntime.so.1", files);
            File.WriteAllText(Path.Combine(staging, ManifestName), JsonSerializer.Serialize(manifest, JsonOptions), new UTF8Encoding(false));

            var archiveTemp = archive + ".tmp";
            WriteArchive(staging, archiveTemp);
            Directory.Move(staging, output);
            File.Move(archiveTemp, archive, overwrite: true);
            return new BundleResult(output, archive, manifest);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            if (File.Exists(archive + ".tmp")) File.Delete(archive + ".tmp");
            throw;
        }
    }

    /// <summary>Checks a bundle folder against its manifest: every file listed present with its size and hash, and nothing unlisted. Returns the problems.</summary>
    public static IReadOnlyList<string> Verify(string directory)
    {
        var manifestPath = Path.Combine(directory, ManifestName);
        if (!File.Exists(manifestPath)) return [$"{directory} has no {ManifestName}"];
        var manifest = JsonSerializer.Deserialize<BundleManifest>(File.ReadAllText(manifestPath), JsonOptions);
        if (manifest is null || manifest.Format != Format) return [$"{ManifestName} is not an {Format} manifest"];
        var problems = new List<string>();
        foreach (var file in manifest.Files)
        {
            var path = Path.Combine(directory, file.Path);
            if (!IsSafeRelative(file.Path)) problems.Add($"{file.Path}: not a relative path inside the bundle");
            else if (!File.Exists(path)) problems.Add($"{file.Path}: missing");
            else if (new FileInfo(path).Length != file.Bytes || Sha256(path) != file.Sha256) problems.Add($"{file.Path}: contents differ from the manifest");
        }
        var listed = manifest.Files.Select(f => f.Path).Append(ManifestName).Append("result.json").ToHashSet(StringComparer.Ordinal);
        foreach (var extra in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/')))
        {
            if (!listed.Contains(extra)) problems.Add($"{extra}: not in the manifest");
        }
        return problems;
    }

    /// <summary>Unpacks a bundle archive into <paramref name="destination"/>, refusing entries with absolute paths, '..', links or devices.</summary>
    /// <exception cref="InvalidDataException">An unsafe entry; nothing is written past the checks.</exception>
    public static void ExtractSafely(string archive, string destination)
    {
        var root = Path.GetFullPath(destination);
        using (var check = new TarReader(new GZipStream(File.OpenRead(archive), CompressionMode.Decompress)))
        {
            while (check.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.Directory))
                {
                    throw new InvalidDataException($"{archive}: entry '{entry.Name}' is a {entry.EntryType}; bundles hold only files and folders");
                }
                if (!IsSafeRelative(entry.Name.TrimEnd('/'))) throw new InvalidDataException($"{archive}: entry '{entry.Name}' would land outside the destination");
            }
        }
        Directory.CreateDirectory(root);
        using var reader = new TarReader(new GZipStream(File.OpenRead(archive), CompressionMode.Decompress));
        while (reader.GetNextEntry() is { } entry)
        {
            var path = Path.GetFullPath(Path.Combine(root, entry.Name));
            if (entry.EntryType == TarEntryType.Directory) { Directory.CreateDirectory(path); continue; }
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            entry.ExtractToFile(path, overwrite: false);
        }
    }

    /// <summary>The machine field of an ELF file's header (e_machine); <see cref="ElfMachine.Unknown"/> when it is not ELF.</summary>
    public static ElfMachine ReadElfMachine(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> header = stackalloc byte[20];
        if (stream.Read(header) < 20 || header[0] != 0x7F || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F') return ElfMachine.Unknown;
        var machine = header[5] == 1 ? (ushort)(header[18] | header[19] << 8) : (ushort)(header[18] << 8 | header[19]);
        return Enum.IsDefined((ElfMachine)machine) ? (ElfMachine)machine : ElfMachine.Unknown;
    }

    private static string Describe(ElfMachine m) => m switch
    {
        ElfMachine.X64 => "x86-64 (linux-x64)",
        ElfMachine.Arm64 => "AArch64 (linux-arm64)",
        _ => "an unknown machine (not an ELF shared library)",
    };

    /// <summary>A '/'-separated path that stays inside its root: not rooted, no '..' or empty segments.</summary>
    public static bool IsSafeRelative(string path) =>
        path.Length > 0 && !path.StartsWith('/') && !path.Contains('\\') && !Path.IsPathRooted(path)
        && path.Split('/').All(s => s.Length > 0 && s != "." && s != "..");

    private static string RunScript(TargetProfile target, string model, string profile) => $$"""
        #!/bin/sh
        # EdgeOpt bundle for {{target.Name}} ({{target.Rid}}): benchmarks model/{{model}} with the bundled ONNX Runtime as the
        # target profile says ({{string.Join(" > ", target.Providers.Select(p => p.Name))}}), on the sample inputs, and writes
        # result.json (or the path given as the first argument). Extra arguments go to `edgeopt bench`.
        set -eu
        here=$(cd "$(dirname "$0")" && pwd)
        result=${1:-$here/result.json}
        [ $# -gt 0 ] && shift
        if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-runtimes 2>/dev/null | grep -q '^Microsoft.NETCore.App 10\.'; then
          echo "run.sh: this bundle needs the .NET 10 runtime (Microsoft.NETCore.App 10.x), which is not on PATH." >&2
          echo "  install it:  curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --runtime dotnet --channel 10.0" >&2
          echo "  then:        export PATH=\$HOME/.dotnet:\$PATH   (or install your distribution's dotnet-runtime-10.0 package)" >&2
          exit 127
        fi
        case "$(uname -m)" in
          {{(target.IsArm64 ? "aarch64|arm64" : "x86_64|amd64")}}) ;;
          *) echo "run.sh: this bundle is for {{target.Rid}}, but this machine is $(uname -m)" >&2; exit 126 ;;
        esac
        exec dotnet "$here/app/edgeopt.dll" bench "$here/model/{{model}}" --target "$here/{{profile}}" \
          --ort-lib "$here/onnxruntime/libonnxruntime.so.1" --inputs "$here/samples" --json "$result" "$@"

        """;

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to);
    }

    private static void CopyTree(string from, string to, Func<string, bool> skip)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(from, file);
            if (skip(Path.GetFileName(file))) continue;
            Copy(file, Path.Combine(to, rel));
        }
    }

    private static void WriteArchive(string folder, string archive)
    {
        using var stream = File.Create(archive);
        using var gzip = new GZipStream(stream, CompressionLevel.Optimal);
        using var writer = new TarWriter(gzip, TarEntryFormat.Pax);
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var rel = Path.GetRelativePath(folder, file).Replace('\\', '/');
            var entry = new PaxTarEntry(TarEntryType.RegularFile, rel)
            {
                Mode = rel == "run.sh" ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100,
                ModificationTime = DateTimeOffset.UnixEpoch,
                DataStream = File.OpenRead(file),
            };
            writer.WriteEntry(entry);
            entry.DataStream.Dispose();
        }
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

/// <summary>ELF e_machine values of the libraries a bundle may carry.</summary>
public enum ElfMachine : ushort
{
    Unknown = 0,
    X64 = 62,
    Arm64 = 183,
}
