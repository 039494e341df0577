using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Pipeline.Optimization;

/// <summary>What to optimize, with which passes (in order), an optional last stage after them, and how to write the result.</summary>
public sealed record OptimizeRequest(string InputPath, string OutputPath, IReadOnlyList<IPass> Passes, WriteOptions? WriteOptions = null, IModelStage? FinalStage = null);

/// <summary>
/// A step after the passes that needs more than one model: it sees the untouched input model (the reference) and the passes'
/// result, may run both (e.g. an accuracy-aware search), adds its reports and returns the model to write.
/// </summary>
public interface IModelStage
{
    Model Apply(Model reference, Model model, PassContext context, List<PassReport> reports);
}

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
        var reference = request.FinalStage != null ? ModelReader.Copy(model) : null;
        var reports = new PassManager(request.Passes).Run(model, context).ToList();
        if (request.FinalStage != null) model = request.FinalStage.Apply(reference!, model, context ?? PassContext.Default, reports);
        var written = ModelWriter.Write(model, output, request.WriteOptions);
        return new OptimizeResult(input, inputBytes, reports, written, model);
    }
}
