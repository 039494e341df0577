using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Core;

/// <summary>A graph rewrite with a stable id, typed options and a report.</summary>
public interface IPass
{
    /// <summary>Stable kebab-case public name, e.g. <c>fold-batchnorm</c>.</summary>
    string Id { get; }

    /// <summary>One line saying what the pass does.</summary>
    string Description { get; }

    /// <summary>True when outputs are unchanged up to floating-point rounding; false for lossy passes.</summary>
    bool IsExact { get; }

    PassOptions Options { get; }

    /// <summary>Rewrites <paramref name="model"/> in place and reports what changed.</summary>
    PassReport Run(Model model, PassContext context);
}

/// <summary>What a pass may use besides the model: cancellation, and (later) data sources declared by passes.</summary>
public sealed class PassContext
{
    public static PassContext Default { get; } = new();

    public CancellationToken Cancellation { get; init; }

    /// <summary>Computes calibration ranges for passes that need them (static quantization) when their options hold none.</summary>
    public Quantization.ICalibrationProvider? Calibration { get; init; }

    /// <summary>Streams activations on sample data for passes that refit weights from data (pruning repair); null: none available.</summary>
    public IActivationProvider? Activations { get; init; }
}

/// <summary>Base for passes with typed options.</summary>
public abstract class Pass<TOptions> : IPass where TOptions : PassOptions
{
    protected Pass(TOptions options)
    {
        options.ThrowIfInvalid(Id);
        Options = options;
    }

    public abstract string Id { get; }
    public abstract string Description { get; }
    public abstract bool IsExact { get; }
    public TOptions Options { get; }
    PassOptions IPass.Options => Options;

    public PassReport Run(Model model, PassContext context)
    {
        var report = new PassReport(Id);
        Execute(model, context, report);
        return report;
    }

    protected abstract void Execute(Model model, PassContext context, PassReport report);
}

/// <summary>
/// A pass that visits every node of every graph (subgraphs included) in order: <see cref="Matches"/> picks
/// candidates without editing, <see cref="Apply"/> rewrites one through a <see cref="GraphEditor"/> or skips it with a reason.
/// </summary>
public abstract class NodeRewritePass<TOptions>(TOptions options) : Pass<TOptions>(options) where TOptions : PassOptions
{
    protected abstract bool Matches(Node node);

    protected abstract Rewrite Apply(Node node, GraphEditor edit);

    protected override void Execute(Model model, PassContext context, PassReport report)
    {
        foreach (var graph in model.Graph.SelfAndDescendants().ToList())
        {
            var edit = new GraphEditor(graph);
            foreach (var node in graph.Nodes.ToList())
            {
                context.Cancellation.ThrowIfCancellationRequested();
                if (node.Graph.Nodes.Contains(node) == false || !Matches(node)) continue;
                var label = node.ToString();
                var result = Apply(node, edit);
                if (result.Done) report.Change(label, result.Message);
                else report.Skip(label, result.Message);
            }
        }
    }
}
