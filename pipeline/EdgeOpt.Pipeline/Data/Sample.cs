using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Pipeline.Data;

/// <summary>One set of model inputs by name, with the reference outputs when the data set stores them.</summary>
public sealed record Sample(string Source, IReadOnlyDictionary<string, Tensor> Inputs, IReadOnlyDictionary<string, Tensor> ExpectedOutputs)
{
    /// <summary>Each input's dimensions: concrete shapes for models with dynamic inputs (shape inference, MAC counts).</summary>
    public Dictionary<string, long[]> InputShapes() => Inputs.ToDictionary(p => p.Key, p => p.Value.Dims.ToArray(), StringComparer.Ordinal);
}

/// <summary>
/// Samples in the ONNX test-data layout: <c>DIR/test_data_set_k/input_i.pb</c> (and <c>output_j.pb</c>), or
/// <c>DIR/input_i.pb</c> for a single set. Tensors are matched to the model's inputs by their stored name when it is
/// one of the model's, otherwise by position.
/// </summary>
public static class TestDataSets
{
    /// <summary>Reads every sample under <paramref name="directory"/> for a model with these inputs and outputs.</summary>
    /// <exception cref="ArgumentException">The folder holds no samples, or a tensor does not fit the model (name, count, type, shape).</exception>
    public static IReadOnlyList<Sample> Load(string directory, IReadOnlyList<Value> inputs, IReadOnlyList<Value> outputs) =>
        [.. Folders(directory).Select(set => LoadSet(set, inputs, outputs))];

    /// <summary>
    /// The sample folders under <paramref name="directory"/> without reading them: <c>test_data_set_*</c> in name
    /// order, or the folder itself when it holds <c>input_0.pb</c>. Read each with <see cref="LoadSet"/> to stream samples.
    /// </summary>
    /// <exception cref="ArgumentException">The folder does not exist or holds no samples.</exception>
    public static IReadOnlyList<string> Folders(string directory)
    {
        if (!Directory.Exists(directory)) throw new ArgumentException($"the data folder '{directory}' does not exist");
        var sets = Directory.EnumerateDirectories(directory, "test_data_set_*").Order(StringComparer.Ordinal).ToList();
        if (sets.Count == 0 && File.Exists(Path.Combine(directory, "input_0.pb"))) sets.Add(directory);
        if (sets.Count == 0)
        {
            throw new ArgumentException($"'{directory}' holds no test data: expected test_data_set_0/input_0.pb … (the ONNX test-data layout) or input_0.pb");
        }
        return sets;
    }

    /// <summary>Reads one sample folder (<c>input_i.pb</c>, and <c>output_j.pb</c> when there is one per output).</summary>
    /// <exception cref="ArgumentException">A tensor does not fit the model (name, count, type, shape).</exception>
    public static Sample LoadSet(string set, IReadOnlyList<Value> inputs, IReadOnlyList<Value> outputs)
    {
        var inputFiles = Numbered(set, "input");
        if (inputFiles.Count != inputs.Count)
        {
            throw new ArgumentException($"'{set}' has {inputFiles.Count} input files but the model has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))})");
        }
        var feeds = Match(inputFiles, inputs, set, "input");
        foreach (var (name, tensor) in feeds) CheckFits(inputs.First(i => i.Name == name), tensor, set);
        var expected = Numbered(set, "output") is { Count: > 0 } outFiles && outFiles.Count == outputs.Count
            ? Match(outFiles, outputs, set, "output")
            : new Dictionary<string, Tensor>();
        return new Sample(set, feeds, expected);
    }

    private static List<string> Numbered(string set, string prefix)
    {
        var files = new List<string>();
        for (var i = 0; File.Exists(Path.Combine(set, $"{prefix}_{i}.pb")); i++) files.Add(Path.Combine(set, $"{prefix}_{i}.pb"));
        return files;
    }

    private static Dictionary<string, Tensor> Match(List<string> files, IReadOnlyList<Value> values, string set, string kind)
    {
        var tensors = files.Select(TensorFiles.Read).ToList();
        var names = values.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        var byName = tensors.All(t => names.Contains(t.Name)) && tensors.Select(t => t.Name).Distinct().Count() == tensors.Count;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var i = 0; i < tensors.Count; i++)
        {
            var name = byName ? tensors[i].Name : values[i].Name;
            result[name] = tensors[i];
        }
        if (!byName && tensors.Any(t => t.Name.Length > 0 && !names.Contains(t.Name)))
        {
            var stray = tensors.First(t => t.Name.Length > 0 && !names.Contains(t.Name));
            throw new ArgumentException($"'{set}': {kind} tensor '{stray.Name}' names no {kind} of the model; its {kind}s are {string.Join(", ", values.Select(v => $"'{v.Name}'"))}");
        }
        return result;
    }

    /// <summary>Throws when <paramref name="tensor"/> cannot feed <paramref name="input"/> (element type, rank, fixed dimensions).</summary>
    internal static void CheckFits(Value input, Tensor tensor, string set)
    {
        if (input.TensorType is not { } type) return;
        if (type.ElementType != tensor.DataType)
        {
            throw new ArgumentException($"'{set}': input '{input.Name}' is {TensorDataTypes.OnnxName(tensor.DataType)} but the model expects {TensorDataTypes.OnnxName(type.ElementType)}");
        }
        if (type.Shape is not { } shape) return;
        var fits = shape.Count == tensor.Rank && shape.Select((d, i) => d.Value is not { } v || v == tensor.Dims[i]).All(x => x);
        if (!fits)
        {
            throw new ArgumentException($"'{set}': input '{input.Name}' has shape [{string.Join(",", tensor.Dims)}] but the model expects {type}");
        }
    }
}
