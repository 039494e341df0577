using System.CommandLine;
using EdgeOpt.Onnx.Analysis;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Shapes;
using Spectre.Console;

namespace EdgeOpt.Cli.Commands;

/// <summary><c>edgeopt inspect MODEL</c>: format, interface, op histogram, parameters, size and MACs.</summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The .onnx model to inspect" };
        var shapes = new Option<string[]>("--input-shape")
        {
            Description = "Concrete shape for a dynamic input, NAME=DIMS (e.g. x=1x3x224x224); repeat per input",
        };
        var json = new Option<bool>("--json") { Description = "Print the statistics as JSON instead of tables" };
        var command = new Command("inspect", "Show a model's inputs, outputs, operators, parameters, size and MACs") { model, shapes, json };
        command.SetAction(parse => Cli.Guard(() =>
        {
            var path = parse.GetValue(model)!.FullName;
            var m = ModelReader.Read(path);
            var overrides = InputShapes.Parse(parse.GetValue(shapes));
            var inferred = Cli.Usage(() => ShapeInference.Infer(m, new ShapeInferenceOptions { InputShapes = overrides }));
            var stats = ModelStatistics.Compute(m, inferred);
            if (parse.GetValue(json)) Console.Out.WriteLine(Json.Serialize(ToJson(path, stats)));
            else Print(path, stats);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static object ToJson(string path, ModelStatistics s) => new
    {
        model = path,
        irVersion = s.IrVersion,
        opsets = s.Opsets.GroupBy(o => o.Domain.Length == 0 ? "ai.onnx" : o.Domain).ToDictionary(g => g.Key, g => g.Max(o => o.Version)),
        producer = s.Producer,
        inputs = s.Inputs.Select(Signature),
        outputs = s.Outputs.Select(Signature),
        nodes = s.Nodes,
        subgraphs = s.Subgraphs,
        ops = s.Ops.ToDictionary(p => p.Key, p => p.Value),
        parameters = s.Parameters,
        parameterBytes = s.ParameterBytes,
        fileBytes = s.FileBytes,
        macs = s.Macs,
        macsByOp = s.MacsByOp.Select(c => new { op = c.OpType, nodes = c.Nodes, macs = c.Macs }),
        unknownCostNodes = s.UnknownCostNodes,
        layers = s.Layers.Select(l => new { node = l.Node, op = l.OpType, macs = l.Macs, parameters = l.Parameters }),
        largestTensors = s.LargestTensors.Select(t => new { name = t.Name, elemType = t.ElemType, dims = t.Dims, bytes = t.Bytes }),
    };

    private static object Signature(TensorSignature t) => new { name = t.Name, elemType = t.ElemType, shape = t.Shape };

    private static void Print(string path, ModelStatistics s)
    {
        var opsets = string.Join(", ", s.Opsets.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)} {o.Version}"));
        var producer = s.Producer.Length > 0 ? $", produced by {s.Producer}" : "";
        AnsiConsole.MarkupLineInterpolated($"[bold]{Path.GetFileName(path)}[/]: IR {s.IrVersion}, opsets {opsets}{producer}");
        var io = new Table().AddColumns("", "name", "type");
        foreach (var i in s.Inputs) io.AddRow("input", Markup.Escape(i.Name), Markup.Escape(Shape(i)));
        foreach (var o in s.Outputs) io.AddRow("output", Markup.Escape(o.Name), Markup.Escape(Shape(o)));
        AnsiConsole.Write(io);

        var summary = new Table().AddColumns("size on disk", "parameters", "MACs", "nodes");
        summary.AddRow(s.FileBytes is { } b ? Format.Bytes(b) : "-", $"{Format.Metric(s.Parameters)} ({Format.Bytes(s.ParameterBytes)})",
            s.Macs is { } macs ? Format.Metric(macs) : "unknown", $"{s.Nodes}" + (s.Subgraphs > 0 ? $" ({s.Subgraphs} subgraphs)" : ""));
        AnsiConsole.Write(summary);
        if (s.UnknownCostNodes.Count > 0)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]MACs unknown: {s.UnknownCostNodes.Count} nodes have dynamic shapes (first: {s.UnknownCostNodes[0]}); pass --input-shape NAME=DIMS for the dynamic inputs[/]");
        }

        var ops = new Table().AddColumns("op", "count", "MACs");
        var macsByOp = s.MacsByOp.ToDictionary(c => c.OpType, c => c.Macs);
        foreach (var (op, count) in s.Ops)
        {
            ops.AddRow(Markup.Escape(op), count.ToString(System.Globalization.CultureInfo.InvariantCulture), macsByOp.TryGetValue(op, out var m) ? Format.Metric(m) : "");
        }
        AnsiConsole.Write(ops);

        var largest = new Table().AddColumns("largest tensors", "type", "size");
        foreach (var t in s.LargestTensors) largest.AddRow(Markup.Escape(t.Name), Markup.Escape($"{t.ElemType}[{string.Join(",", t.Dims)}]"), Format.Bytes(t.Bytes));
        AnsiConsole.Write(largest);
    }

    private static string Shape(TensorSignature t) => $"{t.ElemType}" + (t.Shape == null ? "[?]" : $"[{string.Join(",", t.Shape)}]");
}
