using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary>
/// An <see cref="IActivationProvider"/> for the pass tests: runs seeded random samples through ONNX Runtime (graph
/// optimizations off), exposing the requested intermediates as outputs. Counts its model runs.
/// </summary>
internal sealed class OrtActivations(int samples, int firstSeed = 100, float low = -1f, float high = 1f) : IActivationProvider
{
    public int Runs { get; private set; }

    public IEnumerable<ActivationSample> Stream(Model model, IReadOnlyList<string> tensors, CancellationToken cancellation)
    {
        var inputs = model.Graph.Inputs.Where(i => !i.IsInitializer).Select(i => i.Name).ToHashSet();
        var exposed = PruneOrt.Exposing(model, [.. tensors.Where(t => !inputs.Contains(t) && !model.Graph.Outputs.Any(o => o.Name == t))]);
        var bytes = ModelWriter.ToBytes(exposed);
        for (var s = 0; s < samples; s++)
        {
            var feed = PruneOrt.Feed(model, firstSeed + s, low, high);
            var wanted = tensors.Where(t => !inputs.Contains(t)).ToList();
            var outputs = wanted.Count > 0 ? PruneOrt.Run(bytes, feed, wanted) : [];
            Runs++;
            var result = tensors.ToDictionary(t => t, t => inputs.Contains(t)
                ? new ActivationTensor(feed[t].Shape, feed[t].Data)
                : new ActivationTensor(outputs[t].Shape, outputs[t].Data));
            yield return new ActivationSample($"seed {firstSeed + s}", result);
        }
    }
}
