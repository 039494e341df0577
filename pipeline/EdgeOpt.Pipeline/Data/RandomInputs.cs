using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Pipeline.Data;

/// <summary>Seeded random inputs of each input's declared type and shape (dynamic dimensions from explicit shapes).</summary>
public static class RandomInputs
{
    /// <summary>
    /// One sample per seed: floats uniform in [-1, 1), integers in [0, 10), booleans fair. Dynamic dimensions must be
    /// given in <paramref name="shapes"/>; the error names the input and shows the option to pass.
    /// </summary>
    public static Sample Generate(IReadOnlyList<Value> inputs, IReadOnlyDictionary<string, long[]> shapes, int seed)
    {
        var random = new Random(seed);
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            var type = input.TensorType ?? throw new ArgumentException($"input '{input.Name}' is not a tensor ({input.Type}); pass real inputs with --inputs DIR");
            var dims = ShapeOf(input, type, shapes);
            feeds[input.Name] = Fill(input.Name, type.ElementType, dims, random);
        }
        return new Sample($"random (seed {seed})", feeds, new Dictionary<string, Tensor>());
    }

    private static long[] ShapeOf(Value input, TensorType type, IReadOnlyDictionary<string, long[]> shapes)
    {
        if (shapes.TryGetValue(input.Name, out var given)) return given;
        if (type.StaticShape is { } fixedShape) return fixedShape;
        var example = string.Join("x", (type.Shape ?? []).Select(d => d.Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "N"));
        throw new ArgumentException($"input '{input.Name}' has a dynamic shape {type}: pass --input-shape {input.Name}={(example.Length > 0 ? example : "DIMS")} with each N a concrete size (--batch fills a dynamic leading dimension)");
    }

    private static Tensor Fill(string name, TensorDataType type, long[] dims, Random random)
    {
        var count = checked((int)dims.Aggregate(1L, (a, b) => a * b));
        return type switch
        {
            TensorDataType.Float => Tensor.Create(name, dims, Floats(count, random)),
            TensorDataType.Double => Tensor.Create(name, dims, Floats(count, random).Select(f => (double)f).ToArray()),
            TensorDataType.Float16 => Tensor.Create(name, dims, Floats(count, random).Select(f => (Half)f).ToArray()),
            TensorDataType.Int64 => Tensor.Create(name, dims, Ints(count, random).Select(i => (long)i).ToArray()),
            TensorDataType.Int32 => Tensor.Create(name, dims, Ints(count, random)),
            TensorDataType.Int8 => Tensor.Create(name, dims, Ints(count, random).Select(i => (sbyte)i).ToArray()),
            TensorDataType.UInt8 => Tensor.Create(name, dims, Ints(count, random).Select(i => (byte)i).ToArray()),
            TensorDataType.Bool => Tensor.Create(name, dims, Ints(count, random).Select(i => i % 2 == 1).ToArray()),
            _ => throw new ArgumentException($"input '{name}' is {TensorDataTypes.OnnxName(type)}, which random inputs do not cover; pass real inputs with --inputs DIR"),
        };
    }

    private static float[] Floats(int count, Random random)
    {
        var data = new float[count];
        for (var i = 0; i < count; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return data;
    }

    private static int[] Ints(int count, Random random)
    {
        var data = new int[count];
        for (var i = 0; i < count; i++) data[i] = random.Next(0, 10);
        return data;
    }
}
