using System.Diagnostics;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Validation;

namespace EdgeOpt.Passes.Core;

/// <summary>A pass that left the model invalid: a bug in that pass, reported with the problems found.</summary>
public sealed class PassFailedException(string passId, IReadOnlyList<ModelProblem> problems)
    : Exception($"pass '{passId}' left the model invalid (a bug in the pass; please report it):\n{string.Join("\n", problems.Take(20).Select(p => "  - " + p))}")
{
    public string PassId { get; } = passId;
    public IReadOnlyList<ModelProblem> Problems { get; } = problems;
}

/// <summary>Runs passes in order; after each one, restores topological order and re-validates the model.</summary>
public sealed class PassManager(IEnumerable<IPass> passes)
{
    public IReadOnlyList<IPass> Passes { get; } = [.. passes];

    public IReadOnlyList<PassReport> Run(Model model, PassContext? context = null)
    {
        context ??= PassContext.Default;
        var reports = new List<PassReport>(Passes.Count);
        foreach (var pass in Passes)
        {
            var clock = Stopwatch.StartNew();
            var report = pass.Run(model, context);
            foreach (var g in model.Graph.SelfAndDescendants()) g.SortTopologically();
            var problems = ModelValidator.Validate(model);
            if (problems.Count > 0) throw new PassFailedException(pass.Id, problems);
            report.Elapsed = clock.Elapsed;
            reports.Add(report);
        }
        return reports;
    }
}
