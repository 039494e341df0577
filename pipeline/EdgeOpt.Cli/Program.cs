using System.CommandLine;
using EdgeOpt.Cli;
using EdgeOpt.Cli.Commands;
using EdgeOpt.Passes.Core;
using Spectre.Console;

if (Console.IsOutputRedirected)
{
    // Plain text for files and pipes: no escape codes, no live widgets.
    AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = AnsiSupport.No,
        ColorSystem = ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
    });
}

var catalog = PassCatalog.CreateDefault();
var root = new RootCommand("EdgeOpt: optimize ONNX models for edge devices and CPUs")
{
    InspectCommand.Create(),
    OptimizeCommand.Create(catalog),
    PassesCommand.Create(catalog),
    BenchCommand.Create(),
    VerifyCommand.Create(),
    SensitivityCommand.Create(catalog),
    RuntimeCommand.Create(),
    TargetsCommand.Create(),
    DeployCommand.Create(),
    ReportCommands.Compare(),
    ReportCommands.Report(),
    RunCommand.Create(catalog),
};
try
{
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e)
{
    Console.Error.WriteLine($"edgeopt: internal error (a bug; please report it with this trace): {e}");
    return ExitCodes.Internal;
}
