using System.Globalization;

namespace EdgeOpt.Onnx.Ir;

/// <summary>
/// A computation graph: nodes in order, graph inputs and outputs, initializers, and the values they name.
/// Subgraphs (If branches, Loop/Scan bodies) are graphs owned by a node's attribute; they see the values of
/// every enclosing graph. All graphs of one model share one name registry, so new names are unique model-wide.
/// </summary>
public sealed class Graph
{
    private readonly List<Node> _nodes = [];
    private readonly List<Value> _initializers = [];
    private readonly List<Value> _sparseInitializers = [];
    private readonly List<Value> _outputs = [];
    private readonly List<Value> _valueInfos = [];
    private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
    private readonly NameRegistry _names;

    /// <summary>A new, empty top-level graph.</summary>
    public Graph(string name = "main") : this(name, new NameRegistry()) { }

    private Graph(string name, NameRegistry names)
    {
        Name = name;
        _names = names;
    }

    public string Name { get; set; }
    public string? DocString { get; set; }

    /// <summary>The node whose attribute holds this graph; null for the main graph.</summary>
    public Node? ParentNode { get; internal set; }

    public Graph? ParentGraph => ParentNode?.Graph;

    internal List<Value> InputList { get; } = [];

    public IReadOnlyList<Node> Nodes => _nodes;
    public IReadOnlyList<Value> Inputs => InputList;
    public IReadOnlyList<Value> Outputs => _outputs;
    public IReadOnlyList<Value> Initializers => _initializers;
    public IReadOnlyList<Value> SparseInitializers => _sparseInitializers;

    /// <summary>Values annotated in the graph's value_info list, in order.</summary>
    public IReadOnlyList<Value> ValueInfos => _valueInfos;

    /// <summary>Every value defined in this graph's own scope.</summary>
    public IEnumerable<Value> Values => _values.Values;

    /// <summary>The proto this graph was read from, without the parts the IR holds.</summary>
    internal Proto.GraphProto? Template { get; set; }

    /// <summary>value_info protos as read, per list, so unchanged entries are written back unchanged.</summary>
    internal Dictionary<(GraphList List, Value Value), Proto.ValueInfoProto> InfoTemplates { get; } = [];

    /// <summary>A new subgraph that shares this graph's name registry (attach it with <see cref="Attribute.FromGraph"/>).</summary>
    public Graph CreateSubgraph(string name) => new(name, _names);

    /// <summary>The value named <paramref name="name"/> in this scope or an enclosing one.</summary>
    public Value? FindValue(string name)
    {
        for (var g = this; g != null; g = g.ParentGraph)
        {
            if (g._values.TryGetValue(name, out var v)) return v;
        }
        return null;
    }

    /// <summary>The value named <paramref name="name"/> in this graph's own scope.</summary>
    public Value? FindLocalValue(string name) => _values.GetValueOrDefault(name);

    /// <summary>A name no value or node in the model has: <paramref name="baseName"/>, or it with a numeric suffix.</summary>
    public string UniqueName(string baseName) => _names.Reserve(baseName);

    /// <summary>Marks an imported or caller-chosen name as taken.</summary>
    internal void ClaimName(string name) => _names.Claim(name);

    internal Value DefineValue(string name)
    {
        var v = new Value(this, name);
        _values[name] = v;
        _names.Claim(name);
        return v;
    }

    /// <summary>A new graph input; the name must be free.</summary>
    public Value AddInput(string name, ValueType? type)
    {
        var v = DefineFresh(name);
        v.Type = type;
        InputList.Add(v);
        return v;
    }

    /// <summary>Removes a graph input that nothing uses (this changes the model's interface).</summary>
    public void RemoveInput(Value input)
    {
        if (!InputList.Remove(input)) throw new InvalidOperationException($"'{input.Name}' is not an input of graph '{Name}'");
        if (!input.IsInitializer && !input.IsUsed) _values.Remove(input.Name);
    }

    /// <summary>Appends <paramref name="value"/> to the graph outputs.</summary>
    public void AddOutput(Value value)
    {
        _outputs.Add(value);
        value.OutputOfCount++;
    }

    /// <summary>Points output slot <paramref name="index"/> at <paramref name="value"/>.</summary>
    public void SetOutput(int index, Value value)
    {
        _outputs[index].OutputOfCount--;
        _outputs[index] = value;
        value.OutputOfCount++;
    }

    internal void ReplaceOutputEverywhere(Value old, Value replacement)
    {
        foreach (var g in SelfAndDescendants())
        {
            for (var i = 0; i < g._outputs.Count; i++)
            {
                if (ReferenceEquals(g._outputs[i], old)) g.SetOutput(i, replacement);
            }
        }
    }

    /// <summary>A new initializer named after the tensor (the name must be free).</summary>
    public Value AddInitializer(Tensor tensor)
    {
        var v = DefineFresh(tensor.Name);
        v.Initializer = tensor;
        _initializers.Add(v);
        return v;
    }

    /// <summary>A new initializer under a fresh unique name derived from <paramref name="baseName"/>.</summary>
    public Value AddConstant(string baseName, Tensor tensor) => AddInitializer(tensor.WithName(UniqueName(baseName)));

    /// <summary>Replaces the tensor of an existing initializer (same name).</summary>
    public void SetInitializer(Value value, Tensor tensor)
    {
        if (!value.IsInitializer) throw new InvalidOperationException($"'{value.Name}' is not an initializer");
        value.Initializer = tensor.WithName(value.Name);
    }

    /// <summary>Turns a value (e.g. a Constant node's output) into an initializer holding <paramref name="tensor"/>.</summary>
    public void MakeInitializer(Value value, Tensor tensor)
    {
        if (value.Graph != this) throw new InvalidOperationException($"'{value.Name}' belongs to graph '{value.Graph.Name}'");
        if (value.Producer != null) throw new InvalidOperationException($"'{value.Name}' is still produced by {value.Producer}");
        value.Initializer = tensor.WithName(value.Name);
        _initializers.Add(value);
    }

    /// <summary>
    /// Stores initializer <paramref name="value"/> as <paramref name="sparse"/> in the graph's sparse_initializer list instead of
    /// the dense one; the value keeps its name and uses. The sparse tensor must describe the same dims and element type.
    /// </summary>
    public void MakeSparseInitializer(Value value, SparseTensor sparse)
    {
        if (value.Graph != this) throw new InvalidOperationException($"'{value.Name}' belongs to graph '{value.Graph.Name}'");
        if (value.Initializer is not { } dense) throw new InvalidOperationException($"'{value.Name}' is not a dense initializer");
        if (value.IsGraphInput) throw new InvalidOperationException($"'{value.Name}' is also a graph input; its initializer is only a default");
        if (sparse.Values.DataType != dense.DataType || !sparse.Dims.SequenceEqual(dense.Dims))
        {
            throw new ArgumentException($"sparse tensor {sparse.Values.DataType}[{string.Join(",", sparse.Dims)}] does not match initializer {dense}");
        }
        _initializers.Remove(value);
        value.Initializer = null;
        value.SparseInitializer = sparse.Name == value.Name ? sparse : new SparseTensor(sparse.Values.WithName(value.Name), sparse.Indices, [.. sparse.Dims]);
        _sparseInitializers.Add(value);
    }

    /// <summary>Removes an initializer that nothing uses any more.</summary>
    public void RemoveInitializer(Value value)
    {
        if (value.IsUsed) throw new InvalidOperationException($"initializer '{value.Name}' is still used");
        _initializers.Remove(value);
        _sparseInitializers.Remove(value);
        value.Initializer = null;
        value.SparseInitializer = null;
        if (!value.IsGraphInput) Forget(value);
    }

    /// <summary>Adds a node producing fresh outputs named from <paramref name="outputNames"/> (made unique).</summary>
    public Node AddNode(string opType, IEnumerable<Value?> inputs, IEnumerable<string> outputNames, string? name = null,
        string domain = "", IEnumerable<Attribute>? attributes = null, Node? before = null)
    {
        var node = new Node(this, opType, domain, name == null ? UniqueName(opType) : UniqueNodeName(name));
        foreach (var input in inputs) node.AddInput(input);
        foreach (var outName in outputNames) node.AddOutputSlot(DefineValue(UniqueName(outName)));
        foreach (var a in attributes ?? []) node.SetAttribute(a);
        InsertNode(node, before);
        return node;
    }

    internal Node CreateNode(string opType, string domain, string name) => new(this, opType, domain, name);

    internal void AppendNode(Node node) => _nodes.Add(node);

    private string UniqueNodeName(string name) => _names.Reserve(name);

    private void InsertNode(Node node, Node? before)
    {
        var at = before == null ? -1 : _nodes.IndexOf(before);
        if (at < 0) _nodes.Add(node);
        else _nodes.Insert(at, node);
    }

    /// <summary>Removes a node whose outputs are unused; its outputs stop existing.</summary>
    public void RemoveNode(Node node)
    {
        foreach (var o in node.Outputs)
        {
            if (o is { IsUsed: true }) throw new InvalidOperationException($"cannot remove {node}: output '{o.Name}' is still used");
        }
        node.DetachInputs();
        foreach (var sub in node.Subgraphs.SelectMany(g => g.SelfAndDescendants()).ToList()) sub.DetachAll();
        foreach (var o in node.Outputs)
        {
            if (o != null) Forget(o);
        }
        node.ClearOutputs();
        _nodes.Remove(node);
    }

    /// <summary>
    /// Removes <paramref name="old"/> and points every use of its output i at <paramref name="replacements"/>[i].
    /// A graph output keeps its name: the replacement takes the name over when it is a plain intermediate of
    /// this graph, otherwise an Identity node carries the replacement out under the old name.
    /// </summary>
    public void ReplaceNode(Node old, IReadOnlyList<Value?> replacements)
    {
        if (old.Graph != this) throw new InvalidOperationException($"{old} belongs to graph '{old.Graph.Name}'");
        var keepNames = new List<(Value Replacement, string Name, bool Rename, int[] Slots)>();
        for (var i = 0; i < old.Outputs.Count; i++)
        {
            var o = old.Outputs[i];
            if (o == null || !o.IsUsed) continue;
            var r = (i < replacements.Count ? replacements[i] : null)
                ?? throw new InvalidOperationException($"output '{o.Name}' of {old} is used but has no replacement");
            r.Type ??= o.Type;
            if (o.IsGraphOutput)
            {
                var canRename = r.Graph == this && r.Producer != null && r.Producer != old && !r.IsGraphOutput && !r.IsGraphInput && !r.IsInitializer;
                var slots = Enumerable.Range(0, _outputs.Count).Where(k => ReferenceEquals(_outputs[k], o)).ToArray();
                keepNames.Add((r, o.Name, canRename, slots));
            }
            o.ReplaceAllUsesWith(r);
        }
        RemoveNode(old);
        foreach (var (r, name, rename, slots) in keepNames)
        {
            if (rename && r.OutputOfCount == slots.Length)
            {
                _valueInfos.Remove(r);
                TransferName(r, name);
                continue;
            }
            var carrier = new Node(this, OpTypes.Identity, "", UniqueName(name + "/keep_name"));
            carrier.AddInput(r);
            var output = DefineValue(name);
            output.Type = r.Type;
            carrier.AddOutputSlot(output);
            _nodes.Add(carrier);
            foreach (var slot in slots) SetOutput(slot, output);
        }
    }

    /// <summary>
    /// Makes <paramref name="successor"/>, a node of this graph that reads <paramref name="value"/>, the new carrier of value: every
    /// other use of value and every graph-output slot holding it move to successor's output 0. Where value is an output of this
    /// graph the two values swap names, so the interface keeps its names and value_info (value, now internal, takes the successor
    /// output's name). For inserting a node after a value, e.g. an Add of a bias (<c>GraphEditor.InsertAfter</c>).
    /// </summary>
    public void RouteThrough(Value value, Node successor)
    {
        if (successor.Graph != this || value.Graph != this) throw new InvalidOperationException($"{successor} and '{value.Name}' must both belong to graph '{Name}'");
        if (!successor.Inputs.Any(i => ReferenceEquals(i, value))) throw new InvalidOperationException($"{successor} does not read '{value.Name}'");
        var output = successor.Output(0);
        foreach (var use in value.Uses.Where(u => u.Node != successor).ToList()) use.Node.SetInput(use.InputIndex, output);
        var named = _outputs.Any(o => ReferenceEquals(o, value));
        if (value.IsGraphOutput) ReplaceOutputEverywhere(value, output);
        if (!named) return;
        var (outer, inner) = (value.Name, output.Name);
        value.Name = inner;
        output.Name = outer;
        _values[inner] = value;
        _values[outer] = output;
        // The output's value_info as read (doc string, symbolic dims) now describes the successor's output.
        if (InfoTemplates.Remove((GraphList.Output, value), out var template)) InfoTemplates[(GraphList.Output, output)] = template;
    }

    /// <summary>Drops every use this graph's nodes and outputs make of values (when the graph itself goes away).</summary>
    private void DetachAll()
    {
        foreach (var n in _nodes) n.DetachInputs();
        foreach (var o in _outputs) o.OutputOfCount--;
    }

    /// <summary>Gives a value a new name (not allowed for graph inputs and outputs, whose names are the interface).</summary>
    public void Rename(Value value, string newName)
    {
        if (value.IsGraphInput || value.IsGraphOutput) throw new InvalidOperationException($"'{value.Name}' is a graph input or output; its name is fixed");
        TransferName(value, newName);
    }

    /// <summary>
    /// Hands a graph output's name to <paramref name="replacement"/>, which takes the output's place:
    /// used when the node producing the output is removed and <paramref name="replacement"/> now carries it.
    /// </summary>
    public void TakeOverOutput(Value output, Value replacement)
    {
        if (output.Producer != null) throw new InvalidOperationException($"'{output.Name}' is still produced by {output.Producer}");
        if (replacement.IsGraphInput || replacement.IsGraphOutput || replacement.IsInitializer)
        {
            throw new InvalidOperationException($"'{replacement.Name}' is part of the interface; it cannot take over '{output.Name}'");
        }
        var name = output.Name;
        replacement.Type ??= output.Type;
        output.ReplaceAllUsesWith(replacement);
        _valueInfos.Remove(output);
        output.Graph._values.Remove(name);
        TransferName(replacement, name);
    }

    private void TransferName(Value value, string newName)
    {
        var scope = value.Graph._values;
        if (scope.TryGetValue(newName, out var existing) && !ReferenceEquals(existing, value))
        {
            throw new InvalidOperationException($"the name '{newName}' is already taken in graph '{value.Graph.Name}'");
        }
        scope.Remove(value.Name);
        value.Name = newName;
        scope[newName] = value;
        _names.Claim(newName);
    }

    /// <summary>Records <paramref name="value"/> in the value_info list (a type annotation).</summary>
    public void Annotate(Value value)
    {
        if (!_valueInfos.Contains(value)) _valueInfos.Add(value);
    }

    /// <summary>Drops <paramref name="value"/> from the value_info list.</summary>
    public void RemoveAnnotation(Value value) => _valueInfos.Remove(value);

    internal void AddInitializerValue(Value v) => _initializers.Add(v);
    internal void AddSparseInitializerValue(Value v) => _sparseInitializers.Add(v);
    internal void AddValueInfo(Value v) => _valueInfos.Add(v);
    internal void AddInputValue(Value v) => InputList.Add(v);

    private Value DefineFresh(string name)
    {
        if (_values.ContainsKey(name)) throw new InvalidOperationException($"the name '{name}' is already taken in graph '{Name}'");
        return DefineValue(name);
    }

    private void Forget(Value v)
    {
        if (_values.TryGetValue(v.Name, out var known) && ReferenceEquals(known, v)) _values.Remove(v.Name);
        _valueInfos.Remove(v);
    }

    /// <summary>This graph and every subgraph nested below it.</summary>
    public IEnumerable<Graph> SelfAndDescendants()
    {
        yield return this;
        foreach (var n in _nodes)
        {
            foreach (var sub in n.Subgraphs)
            {
                foreach (var g in sub.SelfAndDescendants()) yield return g;
            }
        }
    }

    /// <summary>Every node of this graph and its subgraphs.</summary>
    public IEnumerable<Node> AllNodes() => SelfAndDescendants().SelectMany(g => g._nodes);

    /// <summary>Values that this graph (or graphs nested in it) read from enclosing scopes.</summary>
    public IEnumerable<Value> OuterReferences()
    {
        var inner = SelfAndDescendants().ToHashSet();
        var seen = new HashSet<Value>();
        foreach (var g in inner)
        {
            foreach (var v in g._nodes.SelectMany(n => n.Inputs).Concat(g._outputs))
            {
                if (v != null && !inner.Contains(v.Graph) && seen.Add(v)) yield return v;
            }
        }
    }

    /// <summary>
    /// Orders the nodes so each comes after the producers of its inputs (implicit subgraph inputs included),
    /// keeping the current order wherever it is already valid. Returns the nodes on a cycle (empty when sorted).
    /// </summary>
    public IReadOnlyList<Node> SortTopologically()
    {
        var order = TopologicalOrder(out var cyclic);
        if (cyclic.Count == 0)
        {
            _nodes.Clear();
            _nodes.AddRange(order);
        }
        return cyclic;
    }

    internal List<Node> TopologicalOrder(out List<Node> cyclic)
    {
        var index = new Dictionary<Node, int>();
        for (var i = 0; i < _nodes.Count; i++) index[_nodes[i]] = i;
        var pending = new int[_nodes.Count];
        var dependents = new List<int>[_nodes.Count];
        for (var i = 0; i < _nodes.Count; i++) dependents[i] = [];
        for (var i = 0; i < _nodes.Count; i++)
        {
            var deps = _nodes[i].Inputs.Concat(_nodes[i].ImplicitInputs())
                .Select(v => v?.Producer is { } p && index.TryGetValue(p, out var j) ? j : -1)
                .Where(j => j >= 0).Distinct();
            foreach (var j in deps)
            {
                pending[i]++;
                dependents[j].Add(i);
            }
        }
        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < _nodes.Count; i++)
        {
            if (pending[i] == 0) ready.Enqueue(i, i);
        }
        var result = new List<Node>(_nodes.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            result.Add(_nodes[i]);
            foreach (var d in dependents[i])
            {
                if (--pending[d] == 0) ready.Enqueue(d, d);
            }
        }
        cyclic = [.. _nodes.Where((_, i) => pending[i] > 0)];
        return result;
    }

    public override string ToString() => $"graph '{Name}' ({_nodes.Count} nodes)";

    /// <summary>Names taken in a model; hands out deterministic fresh ones.</summary>
    private sealed class NameRegistry
    {
        private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _next = new(StringComparer.Ordinal);

        public void Claim(string name) => _taken.Add(name);

        public string Reserve(string baseName)
        {
            if (_taken.Add(baseName)) return baseName;
            var n = _next.GetValueOrDefault(baseName, 1);
            string candidate;
            do
            {
                candidate = baseName + "_" + n.ToString(CultureInfo.InvariantCulture);
                n++;
            }
            while (!_taken.Add(candidate));
            _next[baseName] = n;
            return candidate;
        }
    }
}

/// <summary>The three value_info lists of a graph proto.</summary>
internal enum GraphList
{
    Input,
    Output,
    ValueInfo,
}
