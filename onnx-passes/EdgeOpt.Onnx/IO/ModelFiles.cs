using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Onnx.IO;

/// <summary>Sizes of model files on disk.</summary>
public static class ModelFiles
{
    /// <summary>The .onnx file plus the distinct external data files <paramref name="model"/>'s tensors reference.</summary>
    public static long TotalBytes(Model model, string modelPath)
    {
        var externals = model.Graph.SelfAndDescendants()
            .SelectMany(g => g.Initializers)
            .Select(v => v.Initializer?.External?.FullPath)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal);
        return new FileInfo(modelPath).Length + externals.Sum(f => new FileInfo(f).Length);
    }
}
