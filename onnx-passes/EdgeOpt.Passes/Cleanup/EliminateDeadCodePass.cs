using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Cleanup;

/// <summary>
/// Removes nodes none of whose outputs reach a graph output (directly or through subgraphs), then initializers
/// nothing reads, and value_info entries of values that no longer exist. Graph inputs are never removed.
/// Nodes with side effects do not exist in ONNX inference graphs, so dead means unused. Exact.
/// </summary>
public sealed class EliminateDeadCodePass(NoOptions options) : Pass<NoOptions>(options)
{
    public const string PassId = "eliminate-dead-code";

    public EliminateDeadCodePass() : this(NoOptions.Instance) { }

    public override string Id => PassId;
    public override string Description => "Removes nodes and initializers that no graph output depends on";
    public override bool IsExact => true;

    protected override void Execute(Model model, PassContext context, PassReport report)
    {
        // Innermost graphs first, so a node whose subgraph shrinks is judged on what is left.
        foreach (var graph in model.Graph.SelfAndDescendants().Reverse().ToList())
        {
            for (var i = graph.Nodes.Count - 1; i >= 0; i--)
            {
                var node = graph.Nodes[i];
                if (node.Outputs.Any(o => o is { IsUsed: true })) continue;
                report.Change(node.ToString(), "removed: no output is used");
                graph.RemoveNode(node);
            }
            foreach (var init in graph.Initializers.Concat(graph.SparseInitializers).ToList())
            {
                if (init.IsUsed || init.IsGraphInput) continue;
                report.Change($"initializer '{init.Name}'", "removed: unused");
                graph.RemoveInitializer(init);
            }
            foreach (var v in graph.ValueInfos.ToList())
            {
                if (v.Producer == null && !v.IsInitializer && !v.IsGraphInput && !v.IsUsed && v.Graph == graph)
                {
                    graph.RemoveAnnotation(v);
                    report.Change($"value_info '{v.Name}'", "removed: the value no longer exists");
                }
            }
        }
    }
}
