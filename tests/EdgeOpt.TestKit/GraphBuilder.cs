using EdgeOpt.Onnx.Ir;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;
using ValueType = EdgeOpt.Onnx.Ir.ValueType;

namespace EdgeOpt.TestKit;

/// <summary>Builds small graphs in code: inputs, initializers, nodes (one line each) and outputs.</summary>
public sealed class GraphBuilder(Graph graph)
{
    public GraphBuilder(string name = "tiny") : this(new Graph(name)) { }

    public Graph Graph { get; } = graph;

    /// <summary>A float graph input of static shape <paramref name="dims"/>.</summary>
    public Value Input(string name, params long[] dims) => Graph.AddInput(name, TensorType.Of(TensorDataType.Float, dims));

    /// <summary>A graph input of any type (null: unknown).</summary>
    public Value Input(string name, ValueType? type) => Graph.AddInput(name, type);

    /// <summary>A float initializer with seeded values in [-1, 1).</summary>
    public Value Weight(string name, int seed, params long[] dims) =>
        Graph.AddInitializer(Tensor.Create(name, dims, TinyModels.Random(checked((int)dims.Aggregate(1L, (a, b) => a * b)), seed)));

    /// <summary>A float initializer with seeded values in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public Value Weight(string name, int seed, double low, double high, params long[] dims)
    {
        var data = TinyModels.Random(checked((int)dims.Aggregate(1L, (a, b) => a * b)), seed);
        return Graph.AddInitializer(Tensor.Create(name, dims, Array.ConvertAll(data, v => (float)(low + (v + 1) / 2 * (high - low)))));
    }

    /// <summary>An initializer holding <paramref name="data"/>.</summary>
    public Value Constant<T>(string name, long[] dims, params T[] data) where T : unmanaged => Graph.AddInitializer(Tensor.Create(name, dims, data));

    /// <summary>A 1-D int64 initializer (shapes, axes).</summary>
    public Value Int64s(string name, params long[] values) => Constant(name, [values.Length], values);

    /// <summary>A node with one output named <paramref name="output"/>; returns that output.</summary>
    public Value Op(string opType, IEnumerable<Value?> inputs, string output, params Attribute[] attributes) =>
        Node(opType, inputs, [output], attributes).Output(0);

    /// <summary>A node named after its first output, with outputs named <paramref name="outputs"/>.</summary>
    public Node Node(string opType, IEnumerable<Value?> inputs, string[] outputs, params Attribute[] attributes) =>
        Graph.AddNode(opType, inputs, outputs, name: outputs[0] + "_node", attributes: attributes);

    /// <summary>Appends graph outputs.</summary>
    public GraphBuilder Outputs(params Value[] values)
    {
        foreach (var v in values) Graph.AddOutput(v);
        return this;
    }

    /// <summary>The model around the graph, importing ONNX opset <paramref name="opset"/>.</summary>
    public Model Build(long opset = 17) => TinyModels.WithOpset(Graph, opset);
}
