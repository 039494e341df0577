using System.CommandLine;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Pipeline.Benchmarking;
using EdgeOpt.Runtime;
using EdgeOpt.Targets;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary>
/// <c>edgeopt deploy MODEL --target rpi4 -o bundle/</c>: a self-contained folder (and .tar.gz) to copy to the board and run
/// there: the model, the ONNX Runtime library for the board, the edgeopt runner, sample inputs, the profile, run.sh and a manifest.
/// </summary>
public static class DeployCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The .onnx model to ship (usually the optimized one)" };
        var target = new Option<string>("--target") { Description = "Target profile name or file (edgeopt targets)", Required = true };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "The bundle folder to create (a .tar.gz of it is written beside it)", Required = true };
        var inputs = new Option<DirectoryInfo?>("--inputs") { Description = "Sample inputs to ship (ONNX test-data layout); default: one seeded random sample" };
        var samples = new Option<int>("--samples") { Description = "Ship at most this many sample sets of --inputs", DefaultValueFactory = _ => 4 };
        var shapes = new Option<string[]>("--input-shape") { Description = "Shape of a dynamic input for the random sample, NAME=DIMS" };
        var ortLib = new Option<FileInfo?>("--ort-lib-for-target")
        {
            Description = "The ONNX Runtime library to ship (default: the one the build provisioned for the target's RID, artifacts/onnxruntime/<rid>)",
        };
        var dirs = TargetsCommand.DirectoriesOption();
        var command = new Command("deploy", "Package a model for a board: model, ONNX Runtime for the board, runner, samples, run.sh, manifest (.tar.gz too)")
        {
            model, target, output, inputs, samples, shapes, ortLib, dirs,
        };
        command.SetAction(parse => Cli.Guard(() =>
        {
            var modelPath = parse.GetValue(model)!.FullName;
            var profile = TargetsCommand.Load(() => TargetProfiles.Find(parse.GetValue(target)!, TargetsCommand.Int8Targets, (parse.GetValue(dirs) ?? []).Select(d => d.FullName)));
            if (parse.GetValue(samples) < 1) throw new CliException(ExitCodes.Usage, "--samples must be at least 1");
            var library = parse.GetValue(ortLib)?.FullName ?? OrtLibrary.ProvisionedPath(profile.Rid, out var tried)
                ?? throw new CliException(ExitCodes.Runtime, $"no ONNX Runtime library for {profile.Rid}: tried {string.Join(", ", tried)}; run ./build.sh --target=FetchAssets or pass --ort-lib-for-target PATH");

            var ir = ModelReader.Read(modelPath);
            var folder = Path.GetDirectoryName(modelPath)!;
            var files = new List<(string, string)> { (modelPath, Path.GetFileName(modelPath)) };
            files.AddRange(ModelFiles.ExternalFiles(ir).Select(f => (f, Path.GetRelativePath(folder, f))));

            var staging = Directory.CreateTempSubdirectory("edgeopt-samples-");
            try
            {
                var sets = Cli.Usage(() => BenchmarkInputs.Create(ir, parse.GetValue(inputs)?.FullName, InputShapes.Parse(parse.GetValue(shapes)), null, randomCount: 1));
                foreach (var (sample, k) in sets.Take(parse.GetValue(samples)).Select((s, k) => (s, k)))
                {
                    var set = Directory.CreateDirectory(Path.Combine(staging.FullName, $"test_data_set_{k}")).FullName;
                    var runtimeInputs = ir.Graph.Inputs.Where(i => !i.IsInitializer).ToList();
                    for (var i = 0; i < runtimeInputs.Count; i++) TensorFiles.Write(Path.Combine(set, $"input_{i}.pb"), sample.Inputs[runtimeInputs[i].Name]);
                }
                var result = Cli.Usage(() => DeploymentBundle.Create(new BundleRequest(files, profile, AppContext.BaseDirectory, library, staging.FullName,
                    parse.GetValue(output)!.FullName)));
                Print(result, profile);
            }
            finally
            {
                staging.Delete(recursive: true);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void Print(BundleResult result, TargetProfile profile)
    {
        var table = new Table().AddColumns("file", "bytes", "sha256");
        foreach (var f in result.Manifest.Files.Where(f => !f.Path.StartsWith("app/", StringComparison.Ordinal)))
        {
            table.AddRow(Markup.Escape(f.Path), Format.Bytes(f.Bytes), f.Sha256[..16] + "…");
        }
        var app = result.Manifest.Files.Where(f => f.Path.StartsWith("app/", StringComparison.Ordinal)).ToList();
        table.AddRow($"app/ ({app.Count} files)", Format.Bytes(app.Sum(f => f.Bytes)), "");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"bundle for [bold]{profile.Name}[/] ({profile.Rid}): {result.Directory} and {Path.GetFileName(result.Archive)} ({Format.Bytes(new FileInfo(result.Archive).Length)})");
        AnsiConsole.MarkupLineInterpolated($"on the board: tar -xzf {Path.GetFileName(result.Archive)} -C bundle && bundle/run.sh   (needs the .NET 10 runtime; run.sh says how to get it)");
    }
}
