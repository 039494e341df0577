namespace EdgeOpt.Onnx.Ir;

/// <summary>A use of a value: input <see cref="InputIndex"/> of <see cref="Node"/>.</summary>
public readonly record struct Use(Node Node, int InputIndex);

/// <summary>
/// A named value in a graph: a graph input, an initializer, or a node output. It has at most one producer
/// and a list of uses (nodes in this graph or in subgraphs nested below it). Graph input and output names
/// never change under a pass.
/// </summary>
public sealed class Value
{
    internal readonly List<Use> UseList = [];
    internal int OutputOfCount;

    internal Value(Graph graph, string name)
    {
        Graph = graph;
        Name = name;
    }

    /// <summary>The value's name; change it with <see cref="Graph.Rename"/>.</summary>
    public string Name { get; internal set; }

    /// <summary>The graph whose scope defines this value.</summary>
    public Graph Graph { get; }

    /// <summary>Declared or inferred type; null when unknown.</summary>
    public ValueType? Type { get; set; }

    /// <summary>The type when it is a tensor type.</summary>
    public TensorType? TensorType => Type as TensorType;

    public Node? Producer { get; internal set; }
    public int ProducerOutputIndex { get; internal set; }

    public IReadOnlyList<Use> Uses => UseList;

    /// <summary>The initializer tensor when this value is an initializer.</summary>
    public Tensor? Initializer { get; internal set; }

    /// <summary>The sparse initializer when this value is one.</summary>
    public SparseTensor? SparseInitializer { get; internal set; }

    public bool IsInitializer => Initializer != null || SparseInitializer != null;
    public bool IsGraphInput => Graph.InputList.Contains(this);

    /// <summary>Listed as an output of its own graph or of a subgraph nested in it.</summary>
    public bool IsGraphOutput => OutputOfCount > 0;

    /// <summary>Consumed by a node or listed as a graph output.</summary>
    public bool IsUsed => UseList.Count > 0 || OutputOfCount > 0;

    /// <summary>
    /// The constant tensor behind this value: an initializer that is not also a (overridable) graph input,
    /// or the value of a <c>Constant</c> node. Null otherwise.
    /// </summary>
    public Tensor? Constant
    {
        get
        {
            if (Initializer != null) return IsGraphInput ? null : Initializer;
            return Producer is { IsConstantNode: true } c ? ConstantNodes.ValueOf(c) : null;
        }
    }

    public bool IsConstant => Constant != null;

    /// <summary>Points every use and every graph-output slot of this value at <paramref name="replacement"/>.</summary>
    public void ReplaceAllUsesWith(Value replacement)
    {
        if (ReferenceEquals(replacement, this)) return;
        foreach (var use in UseList.ToArray()) use.Node.SetInput(use.InputIndex, replacement);
        if (OutputOfCount > 0) Graph.ReplaceOutputEverywhere(this, replacement);
    }

    public override string ToString() => Type == null ? Name : $"{Name}: {Type}";
}
