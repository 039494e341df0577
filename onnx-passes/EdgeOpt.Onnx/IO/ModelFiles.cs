using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Onnx.IO;

/// <summary>Sizes of model files on disk.</summary>
public static class ModelFiles
{
    /// <summary>The .onnx file plus the distinct external data files <paramref name="model"/>'s tensors reference.</summary>
    public static long TotalBytes(Model model, string modelPath) =>
        new FileInfo(modelPath).Length + ExternalFiles(model).Sum(f => new FileInfo(f).Length);

    /// <summary>The distinct external data files (full paths, inside the model's folder) <paramref name="model"/>'s tensors reference.</summary>
    public static IReadOnlyList<string> ExternalFiles(Model model) =>
        [.. model.Graph.SelfAndDescendants()
            .SelectMany(g => g.Initializers)
            .Select(v => v.Initializer?.External?.FullPath)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)];
}
