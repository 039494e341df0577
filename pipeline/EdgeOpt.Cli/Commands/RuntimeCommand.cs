using System.CommandLine;
using EdgeOpt.Runtime;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>edgeopt runtime</c>: which ONNX Runtime library loads, its version, and the execution providers it can use.</summary>
public static class RuntimeCommand
{
    public static Command Create()
    {
        var ortLib = new Option<string?>("--ort-lib") { Description = "ONNX Runtime library file or folder to load instead of the default search" };
        var json = new Option<bool>("--json") { Description = "Print the facts as JSON" };
        var command = new Command("runtime", "Show the ONNX Runtime library EdgeOpt loads and the execution providers it can use") { ortLib, json };
        command.SetAction(parse => Cli.Guard(() =>
        {
            var library = OrtLibrary.Load(parse.GetValue(ortLib));
            var providers = library.AvailableProviders.Select(p => new
            {
                provider = p,
                name = ExecutionProviders.TryResolve(p, out var info) ? info.FriendlyName : p,
                usable = library.UsableProviders.Contains(p),
            }).ToList();
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(Json.Serialize(new
                {
                    path = library.Path,
                    version = library.Version,
                    apiVersion = library.ApiVersion,
                    runtimeId = OrtLibrary.RuntimeId,
                    providers,
                    searchPaths = OrtLibrary.SearchPaths(),
                }));
                return ExitCodes.Ok;
            }
            AnsiConsole.MarkupLineInterpolated($"ONNX Runtime [bold]{library.Version}[/] (C API {library.ApiVersion}) from {library.Path}");
            var table = new Table().AddColumns("--ep", "provider", "usable here");
            foreach (var p in providers)
            {
                table.AddRow(Markup.Escape(p.name), Markup.Escape(p.provider), p.usable ? "yes" : "no: its provider libraries are not beside the ORT library");
            }
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
