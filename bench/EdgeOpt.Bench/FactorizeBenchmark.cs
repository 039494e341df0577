using System.Diagnostics;
using System.Globalization;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using EdgeOpt.Passes.Factorization;

namespace EdgeOpt.Bench;

/// <summary>
/// The BERT-base factorization budget: every MatMul weight of a synthetic 12-layer BERT-base built in memory (per layer
/// Q, K, V, O of 768×768, FFN 768×3072 and 3072×768: 84.9 M parameters, seeded uniform values) factorized by
/// <see cref="FactorizeSvdPass"/> at RankRatio 0.25 (randomized SVD: the smaller sides are ≥ 512). Prints the wall time of the
/// pass and the process's peak RSS.
/// </summary>
public static class FactorizeBenchmark
{
    private const int Hidden = 768;
    private const int Intermediate = 3072;

    public static int Run(string[] args)
    {
        var layers = int.Parse(Args.Value(args, "--layers") ?? "12", CultureInfo.InvariantCulture);
        var ratio = double.Parse(Args.Value(args, "--rank-ratio") ?? "0.25", CultureInfo.InvariantCulture);
        var parallelism = int.Parse(Args.Value(args, "--parallelism") ?? "-1", CultureInfo.InvariantCulture);
        var powerIterations = int.Parse(Args.Value(args, "--power-iterations") ?? "2", CultureInfo.InvariantCulture);
        if (layers < 1) throw new ArgumentException($"--layers must be at least 1, not {layers}");

        var build = Stopwatch.StartNew();
        var model = SyntheticBert(layers);
        var parameters = model.Graph.Initializers.Sum(v => v.Constant!.ElementCount);
        Console.Error.WriteLine($"synthetic BERT-base: {layers} layers, {parameters:N0} MatMul weight parameters, built in {build.Elapsed.TotalSeconds:F1} s");

        var pass = new FactorizeSvdPass(new FactorizeSvdOptions { RankRatio = ratio, MaxParallelism = parallelism, PowerIterations = powerIterations });
        var clock = Stopwatch.StartNew();
        pass.Run(model, new PassContext());
        var seconds = clock.Elapsed.TotalSeconds;
        var result = pass.LastResult!;
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var median = result.Layers.Select(l => l.RelativeError).Order().ElementAt(result.Layers.Count / 2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"factorize-svd RankRatio {ratio}: {result.Layers.Count} layers factorized, {result.Skipped.Count} skipped; params {result.ParametersBefore:N0} → {result.ParametersAfter:N0}; " +
            $"median relative error {median:F4}; {seconds:F2} s on {Environment.ProcessorCount} cores; peak RSS {self.PeakWorkingSet64 / (1024.0 * 1024.0):F0} MiB"));
        return 0;
    }

    /// <summary>x [1, 128, 768] → per layer Q, K, V, O projections of the layer input (graph outputs) and FFN up/down (the next layer's input).</summary>
    private static Model SyntheticBert(int layers)
    {
        var graph = new Graph("synthetic-bert-base");
        var x = graph.AddInput("x", TensorType.Of(TensorDataType.Float, [1, 128, Hidden]));
        var random = new Random(20240601);
        Value Weight(string name, int rows, int cols)
        {
            var data = new float[rows * cols];
            var scale = 1 / Math.Sqrt(rows);
            for (var i = 0; i < data.Length; i++) data[i] = (float)((2 * random.NextDouble() - 1) * scale);
            return graph.AddInitializer(Tensor.Create(name, [rows, cols], data));
        }
        Value MatMul(Value input, string name, int rows, int cols) =>
            graph.AddNode(OpTypes.MatMul, [input, Weight($"{name}/w", rows, cols)], [name], name: name).Output(0);
        for (var l = 0; l < layers; l++)
        {
            foreach (var p in new[] { "q", "k", "v", "o" }) graph.AddOutput(MatMul(x, $"layer{l}/{p}", Hidden, Hidden));
            var up = MatMul(x, $"layer{l}/ffn_up", Hidden, Intermediate);
            x = MatMul(up, $"layer{l}/ffn_down", Intermediate, Hidden);
        }
        graph.AddOutput(x);
        var model = new Model(graph) { ProducerName = "edgeopt-bench" };
        model.Opsets.Add(new OpsetId("", 17));
        return model;
    }
}
