using System.Text;
using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Execution;
using EdgeOpt.Pipeline.Fidelity;

namespace EdgeOpt.Bench;

/// <summary>
/// The text a PP-OCR recognizer reads, by greedy CTC, and <c>ctc-text</c>: how many lines variants of a recognizer read exactly
/// as the reference does (the fidelity an OCR user sees; cosine and per-step top-1 do not say it).
/// </summary>
internal static class CtcText
{
    /// <summary>Greedy CTC over [1, T, C] class probabilities: arg-max per step, repeats collapsed, blank (0) dropped; class c = line c of the keys, the last class a space.</summary>
    public static string Decode(Tensor output, string keysPath)
    {
        var keys = Keys(keysPath);
        var probs = output.ToSingles();
        var classes = (int)output.Dims[^1];
        var text = new StringBuilder();
        var previous = -1;
        for (var start = 0; start < probs.Length; start += classes)
        {
            var row = probs.AsSpan(start, classes);
            var best = 0;
            for (var i = 1; i < classes; i++) if (row[i] > row[best]) best = i;
            if (best != previous && best != 0) text.Append(best - 1 < keys.Length ? keys[best - 1] : " ");
            previous = best;
        }
        return text.ToString();
    }

    /// <summary><c>ctc-text REFERENCE VARIANT… --data DIR [--keys FILE]</c>: per variant, the lines read exactly as the reference reads them.</summary>
    public static int Run(string[] args)
    {
        var models = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
        var data = Args.Value(args, "--data");
        var keys = Args.Value(args, "--keys") ?? Path.Combine(Directory.GetCurrentDirectory(), "artifacts", "models", "ppocr_keys_v1.txt");
        if (models.Count < 2 || data == null)
        {
            Console.Error.WriteLine("usage: EdgeOpt.Bench ctc-text REFERENCE.onnx VARIANT.onnx… --data DIR [--keys ppocr_keys_v1.txt]");
            return 1;
        }
        var settings = new RuntimeSettings(IntraOpThreads: 1);
        var model = ModelReader.Read(models[0]);
        var samples = TestDataSets.Load(data, [.. model.Graph.Inputs.Where(i => !i.IsInitializer)], model.Graph.Outputs);
        var reference = ReferenceOutputs.Run(models[0], samples, settings);
        var expected = samples.Select(s => Decode(reference[s].Values.First(), keys)).ToList();
        foreach (var path in models.Skip(1))
        {
            using var runner = OrtModelRunner.Open(path, settings);
            var same = samples.Select((s, i) => Decode(runner.Run(s).Values.First(), keys) == expected[i] ? 1 : 0).Sum();
            Console.WriteLine($"{Path.GetFileName(path)}: {same}/{samples.Count} lines read as the reference reads them");
        }
        return 0;
    }

    private static string[]? _keys;

    private static string[] Keys(string path) => _keys ??= File.Exists(path)
        ? File.ReadAllText(path).Split('\n').Select(l => l.TrimEnd('\r')).ToArray()
        : throw new FileNotFoundException($"the OCR keys file {path} is absent: run ./build.sh --target=FetchAssets");
}
