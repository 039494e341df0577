using EdgeOpt.TestKit;

namespace EdgeOpt.Pipeline.Tests.Execution;

/// <summary>
/// The runnable cases of the ONNX backend corpus (../shared/onnx-backend-tests): every <c>SUITE/CASE</c> folder that
/// holds <c>model.onnx</c> and <c>test_data_set_0</c>. Suites of another layout (<c>light</c>: models without inputs,
/// <c>real</c>: download stubs) have no such folder and are left out by that rule.
/// </summary>
internal static class BackendCorpus
{
    /// <summary>The file name of a case's model.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>The first data set of a case; a folder without it is not a runnable case.</summary>
    public const string FirstDataSet = "test_data_set_0";

    /// <summary>The data sets of a case: <c>test_data_set_0</c>, <c>test_data_set_1</c>, ….</summary>
    public const string DataSetPattern = "test_data_set_*";

    /// <summary>A data set's inputs are <c>input_0.pb</c>, <c>input_1.pb</c>, … in the model's input order.</summary>
    public const string InputPrefix = "input";

    /// <summary>A data set's expected outputs are <c>output_0.pb</c>, … in the model's output order.</summary>
    public const string OutputPrefix = "output";

    /// <summary>The corpus folder under ../shared.</summary>
    public const string Folder = "onnx-backend-tests";

    /// <summary>Case ids <c>SUITE/CASE</c> in ordinal order; <see cref="OnnxCorpus.Missing"/> alone when the corpus is absent.</summary>
    public static IEnumerable<string> Cases()
    {
        var root = Path.Combine(TestPaths.SharedDir, Folder);
        if (!Directory.Exists(root)) return [OnnxCorpus.Missing];
        return Directory.EnumerateDirectories(root)
            .SelectMany(Directory.EnumerateDirectories)
            .Where(c => File.Exists(Path.Combine(c, ModelFile)) && Directory.Exists(Path.Combine(c, FirstDataSet)))
            .Select(c => Path.GetRelativePath(root, c).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The folder of case <paramref name="id"/>, or an ignored test when the corpus is absent.</summary>
    public static string Require(string id)
    {
        if (id == OnnxCorpus.Missing) Assert.Ignore($"the ONNX backend corpus (../shared/{Folder}) is absent");
        return TestPaths.RequireShared([Folder, .. id.Split('/')]);
    }

    /// <summary>The numbered files <c>PREFIX_0.pb</c>, <c>PREFIX_1.pb</c>, … of a data set, in order.</summary>
    public static IReadOnlyList<string> Numbered(string dataSet, string prefix)
    {
        var files = new List<string>();
        for (var i = 0; File.Exists(Path.Combine(dataSet, $"{prefix}_{i}.pb")); i++) files.Add(Path.Combine(dataSet, $"{prefix}_{i}.pb"));
        return files;
    }
}
