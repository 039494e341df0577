namespace EdgeOpt.Onnx.Ir;

/// <summary>
/// An operator application. Inputs may be null (an omitted optional input); outputs may be null
/// (an omitted optional output). Changing inputs through <see cref="SetInput"/> keeps use lists right.
/// </summary>
public sealed class Node
{
    private readonly List<Value?> _inputs = [];
    private readonly List<Value?> _outputs = [];
    private readonly List<Attribute> _attributes = [];

    internal Node(Graph graph, string opType, string domain, string name)
    {
        Graph = graph;
        OpType = opType;
        Domain = domain;
        Name = name;
    }

    public Graph Graph { get; }
    public string OpType { get; set; }

    /// <summary>The operator set domain; "" (or "ai.onnx") is the default ONNX domain.</summary>
    public string Domain { get; set; }

    public string Name { get; set; }
    public string? Overload { get; set; }
    public string? DocString { get; set; }

    /// <summary>The proto this node was read from, with its inputs, outputs and attributes removed.</summary>
    internal Proto.NodeProto? Template { get; set; }

    public IReadOnlyList<Value?> Inputs => _inputs;
    public IReadOnlyList<Value?> Outputs => _outputs;
    public IReadOnlyList<Attribute> Attributes => _attributes;

    public bool IsOnnxDomain => Domain is "" or "ai.onnx";
    public bool Is(string opType) => OpType == opType && IsOnnxDomain;
    public bool IsConstantNode => Is(OpTypes.Constant);

    /// <summary>Input <paramref name="index"/>, or null when absent or omitted.</summary>
    public Value? Input(int index) => index < _inputs.Count ? _inputs[index] : null;

    /// <summary>Output <paramref name="index"/>; throws when the node has no such output.</summary>
    public Value Output(int index = 0) =>
        (index < _outputs.Count ? _outputs[index] : null) ?? throw new InvalidOperationException($"node '{Name}' ({OpType}) has no output {index}");

    public void SetInput(int index, Value? value)
    {
        while (_inputs.Count <= index) _inputs.Add(null);
        var old = _inputs[index];
        if (ReferenceEquals(old, value)) return;
        old?.UseList.Remove(new Use(this, index));
        _inputs[index] = value;
        value?.UseList.Add(new Use(this, index));
    }

    public void AddInput(Value? value) => SetInput(_inputs.Count, value);

    /// <summary>Drops inputs from <paramref name="count"/> on.</summary>
    public void TruncateInputs(int count)
    {
        for (var i = _inputs.Count - 1; i >= count; i--)
        {
            SetInput(i, null);
            _inputs.RemoveAt(i);
        }
    }

    /// <summary>Drops trailing omitted inputs.</summary>
    public void TrimInputs()
    {
        var n = _inputs.Count;
        while (n > 0 && _inputs[n - 1] == null) n--;
        TruncateInputs(n);
    }

    internal void DetachInputs()
    {
        for (var i = 0; i < _inputs.Count; i++) _inputs[i]?.UseList.Remove(new Use(this, i));
        _inputs.Clear();
    }

    internal void AddOutputSlot(Value? value)
    {
        if (value != null)
        {
            value.Producer = this;
            value.ProducerOutputIndex = _outputs.Count;
        }
        _outputs.Add(value);
    }

    internal void ClearOutputs() => _outputs.Clear();

    public Attribute? GetAttribute(string name) => _attributes.Find(a => a.Name == name);
    public bool HasAttribute(string name) => GetAttribute(name) != null;

    public long GetInt(string name, long defaultValue) => GetAttribute(name)?.AsInt() ?? defaultValue;
    public float GetFloat(string name, float defaultValue) => GetAttribute(name)?.AsFloat() ?? defaultValue;
    public string GetString(string name, string defaultValue) => GetAttribute(name)?.AsString() ?? defaultValue;
    public IReadOnlyList<long>? GetInts(string name) => GetAttribute(name)?.AsInts();
    public IReadOnlyList<float>? GetFloats(string name) => GetAttribute(name)?.AsFloats();
    public Tensor? GetTensor(string name) => GetAttribute(name)?.AsTensor();

    /// <summary>Adds or replaces (by name, keeping its position) an attribute.</summary>
    public void SetAttribute(Attribute attribute)
    {
        var i = _attributes.FindIndex(a => a.Name == attribute.Name);
        if (i >= 0) _attributes[i] = attribute;
        else _attributes.Add(attribute);
        foreach (var g in attribute.Subgraphs) g.ParentNode = this;
    }

    public bool RemoveAttribute(string name) => _attributes.RemoveAll(a => a.Name == name) > 0;

    /// <summary>Subgraphs held by this node's attributes (If branches, Loop/Scan bodies).</summary>
    public IEnumerable<Graph> Subgraphs => _attributes.SelectMany(a => a.Subgraphs);

    /// <summary>Values from enclosing scopes that this node's subgraphs read (implicit inputs).</summary>
    public IEnumerable<Value> ImplicitInputs()
    {
        var seen = new HashSet<Value>();
        foreach (var sub in Subgraphs)
        {
            foreach (var v in sub.OuterReferences())
            {
                if (seen.Add(v)) yield return v;
            }
        }
    }

    public override string ToString() => $"{(Name.Length > 0 ? Name : "<unnamed>")} ({OpType})";
}
