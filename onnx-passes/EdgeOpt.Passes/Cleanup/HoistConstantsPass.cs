using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Cleanup;

/// <summary>
/// Turns <c>Constant</c> nodes into initializers so every later pass sees weights the same way.
/// Before: <c>w = Constant(value=T); y = Conv(x, w)</c>. After: initializer <c>w = T</c>; <c>y = Conv(x, w)</c>.
/// The value keeps its name. Skipped: sparse constants (<c>sparse_value</c>), which have no dense initializer form,
/// and constants whose output is a graph output. Exact.
/// </summary>
public sealed class HoistConstantsPass(NoOptions options) : NodeRewritePass<NoOptions>(options)
{
    public const string PassId = "hoist-constants";

    public HoistConstantsPass() : this(NoOptions.Instance) { }

    public override string Id => PassId;
    public override string Description => "Constant nodes become initializers (names kept)";
    public override bool IsExact => true;

    protected override bool Matches(Node node) => node.IsConstantNode && node.Outputs.Count == 1 && node.Outputs[0] != null;

    protected override Rewrite Apply(Node node, GraphEditor edit)
    {
        var output = node.Output(0);
        if (output.IsGraphOutput) return Rewrite.Skip($"'{output.Name}' is a graph output");
        var tensor = ConstantNodes.ValueOf(node);
        if (tensor == null) return Rewrite.Skip("sparse or empty Constant has no dense initializer form");
        var graph = node.Graph;
        var uses = output.Uses.ToList();
        var type = output.Type;
        foreach (var use in uses) use.Node.SetInput(use.InputIndex, null);
        graph.RemoveNode(node);
        var hoisted = graph.AddInitializer(tensor.WithName(output.Name));
        hoisted.Type = type;
        foreach (var use in uses) use.Node.SetInput(use.InputIndex, hoisted);
        return Rewrite.Changed($"{TensorDataTypes.OnnxName(tensor.DataType)}[{string.Join(",", tensor.Dims)}] → initializer");
    }
}
