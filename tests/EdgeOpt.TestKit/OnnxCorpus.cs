namespace EdgeOpt.TestKit;

/// <summary>The ONNX backend test models in ../shared/onnx-backend-tests, plus the real models in ../shared/models.</summary>
public static class OnnxCorpus
{
    /// <summary>The single case yielded when the corpus is absent, so the test reports a skip instead of vanishing.</summary>
    public const string Missing = "(corpus absent)";

    /// <summary>Model paths relative to ../shared, sorted.</summary>
    public static IEnumerable<string> Models()
    {
        var root = TestPaths.SharedDir;
        var backend = Path.Combine(root, "onnx-backend-tests");
        if (!Directory.Exists(backend)) return [Missing];
        var files = Directory.EnumerateFiles(backend, "*.onnx", SearchOption.AllDirectories);
        var models = Path.Combine(root, "models");
        if (Directory.Exists(models)) files = files.Concat(Directory.EnumerateFiles(models, "*.onnx", SearchOption.AllDirectories));
        return files.Select(f => Path.GetRelativePath(root, f)).OrderBy(f => f, StringComparer.Ordinal).ToList();
    }

    /// <summary>The full path of a corpus model, or an ignored test when the corpus is absent.</summary>
    public static string Require(string relativePath)
    {
        if (relativePath == Missing) Assert.Ignore("the ONNX backend corpus (../shared/onnx-backend-tests) is absent");
        return TestPaths.RequireShared(relativePath);
    }
}
