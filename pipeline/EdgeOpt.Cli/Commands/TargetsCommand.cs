using System.CommandLine;
using EdgeOpt.Pipeline.Calibration;
using EdgeOpt.Targets;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>edgeopt targets [NAME]</c>: the target profiles (built in and the user's), or one in full.</summary>
public static class TargetsCommand
{
    /// <summary>The int8 target names a profile may use.</summary>
    public static IReadOnlyCollection<string> Int8Targets { get; } = [.. Int8Target.Known.Select(t => t.Name)];

    public static Option<DirectoryInfo[]> DirectoriesOption() => new("--targets-dir")
    {
        Description = "Also read target profiles (*.yaml, *.json) from this folder; a profile there replaces a built-in one of the same name",
    };

    public static Command Create()
    {
        var name = new Argument<string?>("name") { Description = "Show this profile in full (a name, or a profile file's path)", Arity = ArgumentArity.ZeroOrOne };
        var dirs = DirectoriesOption();
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables" };
        var command = new Command("targets", "List the edge target profiles (x64-cpu, rpi4, jetson-orin …) or show one") { name, dirs, json };
        command.SetAction(parse => Cli.Guard(() =>
        {
            var extra = (parse.GetValue(dirs) ?? []).Select(d => d.FullName).ToList();
            var profiles = parse.GetValue(name) is { } one
                ? [Load(() => TargetProfiles.Find(one, Int8Targets, extra))]
                : Load(() => TargetProfiles.LoadAll(Int8Targets, extra));
            if (parse.GetValue(json))
            {
                Console.WriteLine(Json.Serialize(profiles.Select(ToJson)));
                return ExitCodes.Ok;
            }
            if (parse.GetValue(name) != null) PrintOne(profiles[0]);
            else PrintAll(profiles);
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Runs a profile lookup, turning a bad profile or name into a usage error with its message.</summary>
    public static T Load<T>(Func<T> load)
    {
        try
        {
            return load();
        }
        catch (TargetProfileException e)
        {
            throw new CliException(ExitCodes.Usage, e.Message);
        }
    }

    private static void PrintAll(IReadOnlyList<TargetProfile> profiles)
    {
        var table = new Table().AddColumns("target", "rid", "providers", "threads", "int8", "precision");
        foreach (var p in profiles)
        {
            table.AddRow(p.Name, p.Rid, Markup.Escape(string.Join(" > ", p.Providers.Select(v => v.Optional ? $"[{v.Name}]" : v.Name))),
                p.Threads == 0 ? "auto" : p.Threads.ToString(), $"{p.Int8.Target} {p.Int8.Format}", p.Precision);
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey][[name]]: optional provider, used when the ONNX Runtime build has it. `edgeopt targets NAME` shows one in full.[/]");
    }

    private static void PrintOne(TargetProfile p)
    {
        var table = new Table().AddColumns("field", "value");
        table.AddRow("name", p.Name);
        table.AddRow("description", Markup.Escape(p.Description));
        table.AddRow("rid", p.Rid);
        table.AddRow("threads", p.Threads == 0 ? "0 (ONNX Runtime chooses)" : p.Threads.ToString());
        foreach (var (provider, i) in p.Providers.Select((v, i) => (v, i)))
        {
            var options = provider.Options.Count == 0 ? "" : " " + string.Join(", ", provider.Options.Select(o => $"{o.Key}={o.Value}"));
            table.AddRow(i == 0 ? "providers" : "", Markup.Escape($"{i + 1}. {provider.Name}{(provider.Optional ? " (optional)" : "")}{options}"));
        }
        table.AddRow("int8", Markup.Escape($"target {p.Int8.Target}, {p.Int8.Format}{(p.Int8.ActivationType is { } a ? $", {a} activations" : "")}"));
        table.AddRow("precision", p.Precision);
        table.AddRow("opset", $"{p.OpsetMin}..{p.OpsetMax}");
        table.AddRow("file", Markup.Escape(p.Source));
        AnsiConsole.Write(table);
    }

    private static object ToJson(TargetProfile p) => new
    {
        name = p.Name,
        description = p.Description,
        rid = p.Rid,
        threads = p.Threads,
        providers = p.Providers.Select(v => new { name = v.Name, options = v.Options, optional = v.Optional }),
        int8 = new { target = p.Int8.Target, format = p.Int8.Format, activationType = p.Int8.ActivationType },
        precision = p.Precision,
        opset = new { min = p.OpsetMin, max = p.OpsetMax },
        source = p.Source,
    };
}
