using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Data-aware channel scores for <see cref="PruneChannelsPass"/>: channel c of a group scores
/// Σ_consumers Σ_{p ∈ positions of c} ‖W_consumer[:, p]‖₂ · RMS(x_p), x_p the consumer's input at position p of its channel axis
/// on the calibration samples — an estimate of how much of the consumers' outputs the channel carries. A channel with large
/// weights that is rarely active, or whose consumers barely read it, scores low; the weight norms alone cannot tell.
/// One model run per sample (only the consumers' inputs are exposed); per-position sums only, so memory is fixed.
/// </summary>
internal static class ActivationRanking
{
    /// <summary>One score per channel of <paramref name="trace"/>, or the reason the activations cannot rank it.</summary>
    public static double[]? Score(Model model, ChannelTrace trace, IActivationProvider provider, CancellationToken cancellation, out string? problem)
    {
        problem = null;
        var readers = new List<(Node Node, Value Input, ChannelLayout Layout, double[] WeightNorms)>();
        foreach (var (node, input) in trace.Consumers.Distinct())
        {
            var value = node.Input(input)!;
            if (!trace.Values.TryGetValue(value, out var layout))
            {
                problem = $"the input of {LayerNames.Label(node)} carries no channel layout";
                return null;
            }
            var norms = InputNorms(node, layout, out problem);
            if (norms == null) return null;
            readers.Add((node, value, layout, norms));
        }
        if (readers.Count == 0)
        {
            problem = "no layer reads the channels";
            return null;
        }
        var names = readers.Select(r => r.Input.Name).Distinct().ToList();
        var energy = names.ToDictionary(n => n, n => new double[readers.First(r => r.Input.Name == n).Layout.AxisSize]);
        var counts = names.ToDictionary(n => n, _ => 0L);
        foreach (var sample in provider.Stream(model, names, cancellation))
        {
            foreach (var name in names)
            {
                var layout = readers.First(r => r.Input.Name == name).Layout;
                var x = sample[name];
                if (layout.Axis >= x.Dims.Length || x.Dims[layout.Axis] != layout.AxisSize)
                {
                    problem = $"'{name}' has shape {string.Join("×", x.Dims)}, not {layout.AxisSize} along axis {layout.Axis}";
                    return null;
                }
                var (outer, n, inner) = WeightTensors.Split(x.Dims, layout.Axis);
                var e = energy[name];
                for (var o = 0L; o < outer; o++)
                {
                    for (var p = 0L; p < n; p++)
                    {
                        var start = (o * n + p) * inner;
                        double sum = 0;
                        for (var i = 0L; i < inner; i++) sum += (double)x.Data[start + i] * x.Data[start + i];
                        e[p] += sum;
                    }
                }
                counts[name] += outer * inner;
            }
        }
        var scores = new double[trace.Channels];
        foreach (var (_, value, layout, norms) in readers)
        {
            var e = energy[value.Name];
            var count = Math.Max(1, counts[value.Name]);
            for (var c = 0; c < scores.Length; c++)
            {
                foreach (var p in layout.Positions([c])) scores[c] += norms[p] * Math.Sqrt(e[p] / count);
            }
        }
        return scores;
    }

    /// <summary>‖W[:, p]‖₂ per input position p of a consumer's weight (Conv: axis 1, ConvTranspose: axis 0, Gemm/MatMul: the K axis).</summary>
    private static double[]? InputNorms(Node node, ChannelLayout layout, out string? problem)
    {
        problem = null;
        var w = node.Input(ConvInput.W)?.Constant;
        if (w == null || !WeightTensors.IsPrunable(w.DataType))
        {
            problem = $"{LayerNames.Label(node)} has no constant float weight";
            return null;
        }
        int? axis = node.OpType switch
        {
            OpTypes.Conv when node.GetInt(AttrNames.Group, 1) == 1 => 1,
            OpTypes.ConvTranspose when node.GetInt(AttrNames.Group, 1) == 1 => 0,
            OpTypes.Gemm when node.GetInt(AttrNames.TransA, 0) == 0 => node.GetInt(AttrNames.TransB, 0) != 0 ? 1 : 0,
            OpTypes.MatMul when w.Rank == 2 => 0,
            _ => null,
        };
        if (axis is not { } a || w.Dims[a] != layout.AxisSize)
        {
            problem = $"{LayerNames.Label(node)}'s weight does not read the channels along one axis";
            return null;
        }
        return WeightTensors.SliceNorms(FloatTensors.ToDoubles(w)!, w.DimsArray(), a, ChannelCriterion.L2);
    }
}
