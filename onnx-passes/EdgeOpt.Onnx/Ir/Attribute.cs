using System.Text;
using Google.Protobuf;

namespace EdgeOpt.Onnx.Ir;

/// <summary>Attribute kinds; the numbers are ONNX's <c>AttributeProto.AttributeType</c>.</summary>
public enum AttributeKind
{
    Undefined = 0, Float = 1, Int = 2, String = 3, Tensor = 4, Graph = 5, Floats = 6, Ints = 7, Strings = 8,
    Tensors = 9, Graphs = 10, SparseTensor = 11, SparseTensors = 12, TypeProto = 13, TypeProtos = 14,
}

/// <summary>An immutable node attribute. Graph-valued attributes hold subgraphs, which stay editable.</summary>
public sealed class Attribute
{
    private readonly object? _value;

    private Attribute(string name, AttributeKind kind, object? value)
    {
        Name = name;
        Kind = kind;
        _value = value;
    }

    public string Name { get; }
    public AttributeKind Kind { get; }

    /// <summary>Inside a function body: the name of the caller's attribute this one refers to.</summary>
    public string? RefAttrName { get; private init; }

    /// <summary>The proto this attribute was read from (its graph fields removed: they live in the IR).</summary>
    internal Proto.AttributeProto? Origin { get; private init; }

    public float AsFloat() => Get<float>(AttributeKind.Float);
    public long AsInt() => Get<long>(AttributeKind.Int);
    public ByteString AsBytes() => Get<ByteString>(AttributeKind.String);
    public string AsString() => AsBytes().ToStringUtf8();
    public Tensor AsTensor() => Get<Tensor>(AttributeKind.Tensor);
    public Graph AsGraph() => Get<Graph>(AttributeKind.Graph);
    public SparseTensor AsSparseTensor() => Get<SparseTensor>(AttributeKind.SparseTensor);
    public ValueType AsType() => Get<ValueType>(AttributeKind.TypeProto);
    public IReadOnlyList<float> AsFloats() => Get<float[]>(AttributeKind.Floats);
    public IReadOnlyList<long> AsInts() => Get<long[]>(AttributeKind.Ints);
    public IReadOnlyList<ByteString> AsByteStrings() => Get<ByteString[]>(AttributeKind.Strings);
    public IReadOnlyList<string> AsStrings() => [.. AsByteStrings().Select(s => s.ToStringUtf8())];
    public IReadOnlyList<Tensor> AsTensors() => Get<Tensor[]>(AttributeKind.Tensors);
    public IReadOnlyList<Graph> AsGraphs() => Get<Graph[]>(AttributeKind.Graphs);
    public IReadOnlyList<SparseTensor> AsSparseTensors() => Get<SparseTensor[]>(AttributeKind.SparseTensors);
    public IReadOnlyList<ValueType> AsTypes() => Get<ValueType[]>(AttributeKind.TypeProtos);

    /// <summary>The subgraphs this attribute holds (none unless Graph or Graphs).</summary>
    public IEnumerable<Graph> Subgraphs => Kind switch
    {
        AttributeKind.Graph => [(Graph)_value!],
        AttributeKind.Graphs => (Graph[])_value!,
        _ => [],
    };

    private T Get<T>(AttributeKind kind)
    {
        if (Kind != kind) throw new InvalidOperationException($"attribute '{Name}' is {Kind}, not {kind}");
        return (T)_value!;
    }

    public static Attribute Float(string name, float value) => new(name, AttributeKind.Float, value);
    public static Attribute Int(string name, long value) => new(name, AttributeKind.Int, value);
    public static Attribute String(string name, string value) => new(name, AttributeKind.String, ByteString.CopyFrom(value, Encoding.UTF8));
    public static Attribute Bytes(string name, ByteString value) => new(name, AttributeKind.String, value);
    public static Attribute FromTensor(string name, Tensor value) => new(name, AttributeKind.Tensor, value);
    public static Attribute FromGraph(string name, Graph value) => new(name, AttributeKind.Graph, value);
    public static Attribute FromSparseTensor(string name, SparseTensor value) => new(name, AttributeKind.SparseTensor, value);
    public static Attribute FromType(string name, ValueType value) => new(name, AttributeKind.TypeProto, value);
    public static Attribute Floats(string name, params IEnumerable<float> values) => new(name, AttributeKind.Floats, values.ToArray());
    public static Attribute Ints(string name, params IEnumerable<long> values) => new(name, AttributeKind.Ints, values.ToArray());
    public static Attribute Strings(string name, params IEnumerable<string> values) =>
        new(name, AttributeKind.Strings, values.Select(v => ByteString.CopyFrom(v, Encoding.UTF8)).ToArray());
    public static Attribute ByteStrings(string name, IEnumerable<ByteString> values) => new(name, AttributeKind.Strings, values.ToArray());
    public static Attribute FromTensors(string name, IEnumerable<Tensor> values) => new(name, AttributeKind.Tensors, values.ToArray());
    public static Attribute FromGraphs(string name, IEnumerable<Graph> values) => new(name, AttributeKind.Graphs, values.ToArray());
    public static Attribute FromSparseTensors(string name, IEnumerable<SparseTensor> values) => new(name, AttributeKind.SparseTensors, values.ToArray());
    public static Attribute FromTypes(string name, IEnumerable<ValueType> values) => new(name, AttributeKind.TypeProtos, values.ToArray());

    /// <summary>A reference to a function caller's attribute (function bodies only).</summary>
    public static Attribute Reference(string name, AttributeKind kind, string refAttrName) => new(name, kind, null) { RefAttrName = refAttrName };

    internal static Attribute Imported(string name, AttributeKind kind, object? value, Proto.AttributeProto origin) =>
        new(name, kind, value) { Origin = origin, RefAttrName = origin.HasRefAttrName ? origin.RefAttrName : null };

    internal object? RawValue => _value;

    public override string ToString() => Kind switch
    {
        AttributeKind.Int => $"{Name}={AsInt()}",
        AttributeKind.Float => $"{Name}={AsFloat()}",
        AttributeKind.String => $"{Name}=\"{AsString()}\"",
        AttributeKind.Ints => $"{Name}=[{string.Join(",", AsInts())}]",
        AttributeKind.Floats => $"{Name}=[{string.Join(",", AsFloats())}]",
        _ => $"{Name}:{Kind}",
    };
}
