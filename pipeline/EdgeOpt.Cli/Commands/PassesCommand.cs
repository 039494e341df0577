using System.CommandLine;
using System.Reflection;
using EdgeOpt.Passes.Core;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>edgeopt passes</c>: every pass with its options, defaults and descriptions (read from the option records).</summary>
public static class PassesCommand
{
    public static Command Create(PassCatalog catalog)
    {
        var command = new Command("passes", "List the optimization passes and their options");
        command.SetAction(_ => Cli.Guard(() =>
        {
            foreach (var p in catalog.Passes)
            {
                AnsiConsole.MarkupLineInterpolated($"[bold]{p.Id}[/] ({(p.IsExact ? "exact" : "lossy")}): {p.Description}");
                foreach (var prop in p.OptionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    var doc = prop.GetCustomAttribute<OptionAttribute>();
                    if (doc == null) continue;
                    AnsiConsole.MarkupLineInterpolated($"    {prop.Name} = {Show(prop.GetValue(p.DefaultOptions))}: {doc.Description}");
                }
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>A default value as text: lists and dictionaries by their items, not their type name.</summary>
    private static string Show(object? value) => value switch
    {
        null => "(none)",
        string s => s,
        System.Collections.IDictionary d => d.Count == 0 ? "{}" : "{" + string.Join(", ", d.Keys.Cast<object>().Select(k => $"{k}: {d[k]}")) + "}",
        System.Collections.IEnumerable e => "[" + string.Join(", ", e.Cast<object>()) + "]",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
