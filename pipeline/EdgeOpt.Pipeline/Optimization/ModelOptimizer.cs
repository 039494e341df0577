using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Pipeline.Optimization;

/// <summary>What to optimize, with which passes (catalog ids, in order), and how to write the result.</summary>
public sealed record OptimizeRequest(string InputPath, string OutputPath, IReadOnlyList<IPass> Passes, WriteOptions? WriteOptions = null);

/// <summary>The passes' reports and what was written.</summary>
public sealed record OptimizeResult(string InputPath, long InputBytes, IReadOnlyList<PassReport> Reports, WriteResult Written, Model Model);

/// <summary>Load → passes → validate → write atomically. The input model is never modified.</summary>
public static class ModelOptimizer
{
    public static OptimizeResult Run(OptimizeRequest request, PassContext? context = null)
    {
        var input = Path.GetFullPath(request.InputPath);
        var output = Path.GetFullPath(request.OutputPath);
        if (string.Equals(input, output, StringComparison.Ordinal))
        {
            throw new ArgumentException($"the output '{request.OutputPath}' is the input model; EdgeOpt never overwrites its input: choose another -o path");
        }
        var model = ModelReader.Read(input);
        var inputBytes = ModelFiles.TotalBytes(model, input);
        var reports = new PassManager(request.Passes).Run(model, context);
        var written = ModelWriter.Write(model, output, request.WriteOptions);
        return new OptimizeResult(input, inputBytes, reports, written, model);
    }
}
