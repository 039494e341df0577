using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Cleanup;

/// <summary>
/// Removes <c>Identity</c> nodes and inference-mode <c>Dropout</c> nodes, pointing every use of their output at their input.
/// <para>Before: <c>t = Conv(x, w); y = Identity(t); z = Relu(y)</c>. After: <c>t = Conv(x, w); z = Relu(t)</c>.</para>
/// <para>Before: <c>y = Dropout(t, ratio)</c> (no <c>training_mode</c>, or a constant false one). After: uses of <c>y</c> read <c>t</c>.</para>
/// Preconditions: a Dropout qualifies when it has no <c>training_mode</c> input or a constant false one, no explicit
/// <c>is_test=0</c> attribute (opset ≤ 6), and its mask output is unused; the ratio does not matter, since inference-mode
/// Dropout is the identity. When the output is a graph output, its name is kept: the input takes the name over
/// (<see cref="Graph.ReplaceNode"/>). Where it cannot — the input is a graph input, an initializer, another output,
/// or a value of an enclosing graph (an Identity that only carries it out) — the node stays and the skip says why.
/// Identities in subgraphs whose input comes from an enclosing scope are removed the same way: nodes of a subgraph
/// may read outer values directly. Exact.
/// </summary>
public sealed class EliminateIdentityPass(NoOptions options) : NodeRewritePass<NoOptions>(options)
{
    public const string PassId = "eliminate-identity";

    public EliminateIdentityPass() : this(NoOptions.Instance) { }

    public override string Id => PassId;
    public override string Description => "Removes Identity and inference-mode Dropout nodes (graph output names kept)";
    public override bool IsExact => true;

    protected override bool Matches(Node node) => node.Is(OpTypes.Identity) || node.Is(OpTypes.Dropout);

    protected override Rewrite Apply(Node node, GraphEditor edit)
    {
        var input = node.Input(0);
        var output = node.Outputs.Count > 0 ? node.Outputs[0] : null;
        if (input == null || output == null) return Rewrite.Skip("has no data input or output");
        if (node.Is(OpTypes.Dropout) && DropoutBlocker(node) is { } blocker) return Rewrite.Skip(blocker);
        if (!output.IsUsed)
        {
            Bypass.RemoveWithUnusedConstants(edit, node);
            return Rewrite.Changed("removed: output unused");
        }
        if (Bypass.CarrierReason(output, input) is { } reason) return Rewrite.Skip($"{reason}: an Identity must keep carrying it");
        var message = output.IsGraphOutput
            ? $"'{input.Name}' takes over graph output '{output.Name}'"
            : $"uses of '{output.Name}' now read '{input.Name}'";
        Bypass.ReplaceWithUnusedConstants(edit, node, input);
        return Rewrite.Changed(message);
    }

    /// <summary>Why a Dropout is not the identity in inference (null when it is).</summary>
    private static string? DropoutBlocker(Node dropout)
    {
        if (dropout.GetAttribute(AttrNames.IsTest) is { Kind: AttributeKind.Int } isTest && isTest.AsInt() == 0)
        {
            return "is_test=0: training mode";
        }
        if (dropout.Outputs.Count > DropoutOutput.Mask && dropout.Outputs[DropoutOutput.Mask] is { IsUsed: true } mask)
        {
            return $"mask output '{mask.Name}' is used";
        }
        var training = dropout.Input(DropoutInput.TrainingMode);
        if (training == null) return null;
        var constant = training.Constant;
        if (constant == null) return $"training_mode '{training.Name}' is not a constant";
        if (constant.ElementCount != 1 || constant.DataType != TensorDataType.Bool) return $"training_mode '{training.Name}' is not a boolean scalar";
        return constant.AsSpan<byte>()[0] != 0 ? "training_mode is true" : null;
    }
}
