using EdgeOpt.Onnx.Ir;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Core;

/// <summary>
/// The editing surface passes use: new constants and nodes named <c>{node}/{purpose}</c> (unique in the model),
/// node replacement that keeps graph output names, and removal.
/// </summary>
public sealed class GraphEditor(Graph graph)
{
    public Graph Graph { get; } = graph;

    /// <summary>A new initializer named <c>{owner}/{purpose}</c>.</summary>
    public Value Constant(Node owner, string purpose, Tensor tensor) => Graph.AddConstant(NameFor(owner, purpose), tensor);

    /// <summary>A new node inserted before <paramref name="anchor"/>, its outputs named <c>{anchor}/{purpose}</c>.</summary>
    public Node AddNode(Node anchor, string purpose, string opType, IEnumerable<Value?> inputs, int outputCount = 1,
        IEnumerable<Attribute>? attributes = null, string domain = "")
    {
        var baseName = NameFor(anchor, purpose);
        var outputs = Enumerable.Range(0, outputCount).Select(i => outputCount == 1 ? baseName : $"{baseName}_{i}");
        return Graph.AddNode(opType, inputs, outputs, baseName, domain, attributes, before: anchor);
    }

    /// <summary>
    /// A new node <c>{producer}/{purpose}</c> computing <paramref name="opType"/>(value, others…), placed right after the producer
    /// of <paramref name="value"/>, that takes over every use of value (<see cref="Graph.RouteThrough"/>: a graph output keeps its
    /// name). Its output gets value's type: for ops that keep it, e.g. an Add of a bias broadcast along the last axis.
    /// </summary>
    public Node InsertAfter(Value value, string purpose, string opType, IEnumerable<Value?> others)
    {
        var producer = value.Producer ?? throw new ArgumentException($"'{value.Name}' is not a node output: there is nothing to insert after", nameof(value));
        var next = Graph.Nodes.SkipWhile(n => n != producer).Skip(1).FirstOrDefault();
        var name = NameFor(producer, purpose);
        var node = Graph.AddNode(opType, [value, .. others], [name], name, before: next);
        node.Output(0).Type = value.Type;
        Graph.RouteThrough(value, node);
        return node;
    }

    /// <summary>Removes <paramref name="old"/>, its outputs' uses moving to <paramref name="replacements"/> (graph output names kept).</summary>
    public void Replace(Node old, params Value?[] replacements) => Graph.ReplaceNode(old, replacements);

    /// <summary>Removes a node whose outputs are unused.</summary>
    public void Remove(Node node) => Graph.RemoveNode(node);

    /// <summary>Removes an initializer when nothing uses it any more; returns whether it did.</summary>
    public bool RemoveIfUnused(Value value)
    {
        if (value.IsUsed || value.IsGraphInput || !value.IsInitializer) return false;
        value.Graph.RemoveInitializer(value);
        return true;
    }

    private static string NameFor(Node owner, string purpose) => $"{(owner.Name.Length > 0 ? owner.Name : owner.OpType)}/{purpose}";
}
