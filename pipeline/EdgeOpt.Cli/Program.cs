using System.CommandLine;
using EdgeOpt.Cli;
using EdgeOpt.Cli.Commands;
using EdgeOpt.Passes.Core;

var catalog = PassCatalog.CreateDefault();
var root = new RootCommand("EdgeOpt: optimize ONNX models for edge devices and CPUs")
{
    InspectCommand.Create(),
    OptimizeCommand.Create(catalog),
    PassesCommand.Create(catalog),
};
return root.Parse(args).Invoke();
