using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Cleanup;

/// <summary>
/// Drops main-graph inputs that are also initializers, so the initializer is a plain constant the runtime may fold.
/// Models of IR version ≤ 3 had to list every initializer as a graph input (such an input is only a default a caller
/// may override), which keeps runtimes from constant-folding weights.
/// <para>Before: inputs <c>[x, w]</c>, initializer <c>w</c>. After: inputs <c>[x]</c>, initializer <c>w</c> (unchanged).</para>
/// This changes the model's interface (callers can no longer feed <c>w</c>), so the pass is not part of the cleanup
/// sequence. IR version 4 is the first that allows initializers outside the inputs: an older model is moved to IR
/// version 4 when an input is dropped (the operator sets are unchanged). Subgraph inputs are formal parameters and
/// are never touched. Exact for every run that does not feed the dropped inputs.
/// </summary>
public sealed class RemoveInitializerInputsPass(NoOptions options) : Pass<NoOptions>(options)
{
    public const string PassId = "remove-initializer-inputs";

    /// <summary>The first IR version in which an initializer need not be a graph input.</summary>
    public const long MinimumIrVersion = 4;

    public RemoveInitializerInputsPass() : this(NoOptions.Instance) { }

    public override string Id => PassId;
    public override string Description => "Drops graph inputs that are also initializers (changes the interface; not in cleanup)";
    public override bool IsExact => true;

    protected override void Execute(Model model, PassContext context, PassReport report)
    {
        var graph = model.Graph;
        var dropped = graph.Inputs.Where(v => v.IsInitializer).ToList();
        foreach (var input in dropped)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            graph.RemoveInput(input);
            report.Change($"input '{input.Name}'", "dropped from the graph inputs; the initializer stays");
        }
        if (dropped.Count == 0) return;
        if (model.IrVersion < MinimumIrVersion)
        {
            report.Change("model", $"ir_version {model.IrVersion} → {MinimumIrVersion}: earlier versions require every initializer to be a graph input");
            model.IrVersion = MinimumIrVersion;
        }
        report.Change("graph inputs", $"{dropped.Count} of {dropped.Count + graph.Inputs.Count} dropped; {graph.Inputs.Count} left");
    }
}
