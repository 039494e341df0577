using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Refits pruned layers from calibration activations: for each layer, the weights (and bias) W, b minimizing
/// ‖[X, 1]·[W; b] − Y_ref‖² + λ‖[W; b] − [W₀; b₀]‖² (W₀, b₀ the pruned layer as it is: where the data say little, the
/// weights stay), where X holds the layer's inputs in the model as pruned so far (im2col rows of a
/// Conv at sampled output positions, the input vectors of a Gemm/MatMul) and Y_ref the same layer's outputs in the
/// reference model (the one the pass received). Only XᵀX, XᵀY and YᵀY are accumulated per layer (<see cref="LeastSquares"/>),
/// so memory does not grow with the samples. λ = <see cref="RepairSettings.Ridge"/> × the mean of XᵀX's diagonal. With
/// <see cref="RefitRequest.Sparse"/> every output keeps its zero weights at zero (the magnitude-pruning repair). A refit is
/// written only when it lowers the error on the calibration rows; the relative errors before and after are reported.
/// <para>A layer with fewer than <see cref="RowsPerUnknown"/> rows per unknown (e.g. a Gemm head that sees one row per sample)
/// gets the bias-only fallback instead (<see cref="RefitScope.BiasOnly"/>): each output's bias moves by the mean residual over the
/// rows, the mean shift that pruning or factorization caused, written only when it lowers the error on held-out samples
/// (<see cref="MeanShift"/>: leave-one-sample-out, since on its own rows the mean always lowers the error).</para>
/// <para>A MatMul has no bias input: its fitted bias, a parameter the layer did not have, is written only when it lowers the
/// calibration error by at least <see cref="NewBiasMinGain"/>, folded into the constant of an Add that alone reads the MatMul's
/// output (the usual linear layer) or else in a new Add after the MatMul.</para>
/// </summary>
internal static class LayerRefit
{
    /// <summary>
    /// Calibration rows a fit needs per unknown: with fewer the system is underdetermined and the fit says nothing about unseen
    /// inputs. (Requiring 2 was measured worse on ppocrv4_det, whose deep layers see 100 positions per sample: the ridge keeps
    /// fits with 1.5 rows per unknown useful.)
    /// </summary>
    public const int RowsPerUnknown = 1;

    /// <summary>
    /// The relative drop in calibration error a MatMul's fitted bias must bring to be written; below it the bias is left out. A
    /// MatMul has no bias of its own, so the fitted one is a new parameter (and may cost a new Add): one that barely helps on the
    /// calibration rows fits their noise as much as a mean shift (ppocrv4_rec, svd e0.9, held-out cosine 0.98475 when every MatMul
    /// bias was folded into its Add, 0.98503 with this rule, 0.98479 without MatMul biases).
    /// </summary>
    public const double NewBiasMinGain = 0.01;

    /// <summary>
    /// What refitting <paramref name="node"/> would read and write, or the reason it cannot be refit (Conv of 2 spatial dims,
    /// Gemm with transA = 0, MatMul with a rank-2 weight; constant float weights and bias). Every kind fits a bias (for a MatMul one
    /// it does not have yet) except a Gemm with β = 0.
    /// </summary>
    /// <param name="targetChannels">For each current output channel, its index in the reference model's output; null: the same.</param>
    public static RefitRequest? Describe(Node node, IReadOnlyList<long>? targetChannels, bool sparse, out string? reason)
    {
        reason = null;
        var w = node.Input(ConvInput.W)?.Constant;
        if (w == null || !WeightTensors.IsPrunable(w.DataType))
        {
            reason = "its weight is not a constant float tensor";
            return null;
        }
        var bias = node.Input(ConvInput.B);
        if (bias != null && (bias.Constant is not { } bt || !WeightTensors.IsPrunable(bt.DataType)))
        {
            reason = "its bias is not a constant float tensor";
            return null;
        }
        var input = node.Input(ConvInput.X)!.Name;
        var target = node.Output(0).Name;
        switch (node.OpType)
        {
            case OpTypes.Conv:
                if (w.Rank != 4)
                {
                    reason = $"only 2-D convolutions are refit (weight rank {w.Rank})";
                    return null;
                }
                var group = node.GetInt(AttrNames.Group, 1);
                if (group < 1 || w.Dims[0] % group != 0)
                {
                    reason = $"group {group} does not divide {w.Dims[0]} output channels";
                    return null;
                }
                return new RefitRequest(node, RefitKind.Conv, input, target, targetChannels, sparse, (int)group, FitBias: true);
            case OpTypes.Gemm:
                if (node.GetInt(AttrNames.TransA, 0) != 0)
                {
                    reason = "Gemm with transA = 1 is not refit";
                    return null;
                }
                var outputs = w.Dims[node.GetInt(AttrNames.TransB, 0) != 0 ? 0 : 1];
                if (bias?.Constant is { } c && c.ElementCount != 1 && c.ElementCount != outputs)
                {
                    reason = $"Gemm's C ({string.Join("×", c.Dims)}) is not a vector over the {outputs} outputs";
                    return null;
                }
                return new RefitRequest(node, RefitKind.Gemm, input, target, targetChannels, sparse, 1, FitBias: node.GetFloat(AttrNames.Beta, 1f) != 0);
            case OpTypes.MatMul:
                if (w.Rank != 2)
                {
                    reason = $"MatMul weight of rank {w.Rank} is not refit";
                    return null;
                }
                return new RefitRequest(node, RefitKind.MatMul, input, target, targetChannels, sparse, 1, FitBias: true);
            default:
                reason = $"{node.OpType} is not refit";
                return null;
        }
    }

    /// <summary>
    /// Refits <paramref name="requests"/> (layers of <paramref name="model"/>) together: one stream over the samples of
    /// <paramref name="model"/> for their inputs and one of <paramref name="reference"/> for their target outputs.
    /// </summary>
    public static List<LayerRepair> Run(Model model, Model reference, IReadOnlyList<RefitRequest> requests, IActivationProvider provider,
        RepairSettings settings, RepairStatistics statistics, CancellationToken cancellation)
    {
        if (requests.Count == 0) return [];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var states = requests.Select((r, i) => new State(r, settings, statistics.Layers + i)).ToList();
        var missing = states.Where(s => reference.Graph.FindValue(s.Request.Target) == null).ToList();
        foreach (var s in missing) s.Failure = $"the reference model has no value '{s.Request.Target}'";
        var live = states.Where(s => s.Failure == null).ToList();
        if (live.Count > 0)
        {
            var inputs = live.Select(s => s.Request.Input).Distinct().ToList();
            var targets = live.Select(s => s.Request.Target).Distinct().ToList();
            using var current = provider.Stream(model, inputs, cancellation).GetEnumerator();
            using var wanted = provider.Stream(reference, targets, cancellation).GetEnumerator();
            var samples = 0;
            while (current.MoveNext())
            {
                cancellation.ThrowIfCancellationRequested();
                if (!wanted.MoveNext()) throw new InvalidOperationException("the activation provider gave fewer samples for the reference model than for the pruned one");
                foreach (var s in live.Where(s => s.Failure == null)) s.Add(current.Current[s.Request.Input], wanted.Current[s.Request.Target], samples);
                samples++;
            }
            statistics.Samples = Math.Max(statistics.Samples, samples);
            if (samples == 0) throw new InvalidOperationException("the activation provider gave no samples: the calibration data is empty");
        }
        statistics.Layers += requests.Count;
        var results = states.Select(s => s.Finish(settings)).ToList();
        statistics.Seconds += clock.Elapsed.TotalSeconds;
        return results;
    }

    /// <summary>The accumulators of one layer: one least-squares problem per conv group.</summary>
    private sealed class State
    {
        private readonly int _seed;
        private readonly int _positions;
        private readonly long[] _weightDims;
        private readonly double[] _weights;
        private readonly double[]? _bias;
        private readonly int _outputs;
        private readonly int _inputFeatures;
        private readonly bool _transB;
        private readonly double _alpha;
        private readonly double _beta;
        private LeastSquares[]? _solvers;

        /// <summary>Per-sample residual sums for the bias-only fallback; dropped once the rows suffice for the full refit.</summary>
        private MeanShift? _shift;

        public State(RefitRequest request, RepairSettings settings, int index)
        {
            Request = request;
            _seed = unchecked(settings.Seed * 7919 + index * 104729);
            _positions = settings.Positions;
            var w = request.Node.Input(ConvInput.W)!.Constant!;
            _weightDims = w.DimsArray();
            _weights = FloatTensors.ToDoubles(w)!;
            _bias = request.Node.Input(ConvInput.B)?.Constant is { } b ? FloatTensors.ToDoubles(b) : null;
            _outputs = checked((int)(request.Kind switch
            {
                RefitKind.Conv => _weightDims[0],
                RefitKind.Gemm => _weightDims[request.Node.GetInt(AttrNames.TransB, 0) != 0 ? 0 : 1],
                _ => _weightDims[1],
            }));
            _inputFeatures = checked((int)(request.Kind == RefitKind.Conv ? _weightDims[1] * _weightDims[2] * _weightDims[3] : _weights.Length / _outputs));
            var gemm = request.Kind == RefitKind.Gemm;
            _transB = gemm && request.Node.GetInt(AttrNames.TransB, 0) != 0;
            _alpha = gemm ? request.Node.GetFloat(AttrNames.Alpha, 1f) : 1.0;
            _beta = gemm ? request.Node.GetFloat(AttrNames.Beta, 1f) : 1.0;
            _shift = request.FitBias ? new MeanShift(_outputs) : null;
        }

        public RefitRequest Request { get; }

        public string? Failure { get; set; }

        private int OutputsPerGroup => _outputs / Request.Groups;

        /// <summary>Unknowns per output: the inputs a group's output reads, plus 1 for the bias.</summary>
        private int Features => _inputFeatures + (Request.FitBias ? 1 : 0);

        public void Add(ActivationTensor x, ActivationTensor y, int sample)
        {
            _solvers ??= [.. Enumerable.Range(0, Request.Groups).Select(_ => new LeastSquares(Features, OutputsPerGroup))];
            Failure = Request.Kind == RefitKind.Conv ? AddConv(x, y, sample) : AddRows(x, y, sample);
            if (_solvers[0].Rows >= RowsPerUnknown * Features) _shift = null;
        }

        /// <summary>im2col rows at sampled output positions: X [N, C, H, W] → rows of C/g·kh·kw (+1) per group.</summary>
        private string? AddConv(ActivationTensor x, ActivationTensor y, int sample)
        {
            var node = Request.Node;
            if (x.Dims.Length != 4 || y.Dims.Length != 4) return $"input or output of rank {x.Dims.Length}/{y.Dims.Length}, not 4";
            var (n, c, h, wd) = (x.Dims[0], x.Dims[1], x.Dims[2], x.Dims[3]);
            var (oh, ow) = (y.Dims[2], y.Dims[3]);
            var groups = Request.Groups;
            var cg = _weightDims[1];
            if (cg * groups != c) return $"input has {c} channels; the weight reads {cg}×{groups}";
            if (y.Dims[0] != n || !ChannelsFit(y.Dims[1])) return $"reference output {string.Join("×", y.Dims)} does not match {_outputs} output channels";
            long kh = _weightDims[2], kw = _weightDims[3];
            var strides = node.GetInts(AttrNames.Strides) ?? [1, 1];
            var dilations = node.GetInts(AttrNames.Dilations) ?? [1, 1];
            var (padTop, padLeft) = BeginPads(node, h, wd, oh, ow, kh, kw, strides, dilations);
            var positions = Positions(n * oh * ow, sample);
            var features = Features;
            var og = OutputsPerGroup;
            var rows = new double[positions.Length * features];
            var targets = new double[positions.Length * og];
            for (var g = 0; g < groups; g++)
            {
                Array.Clear(rows);
                for (var r = 0; r < positions.Length; r++)
                {
                    var p = positions[r];
                    var b = p / (oh * ow);
                    var oy = p / ow % oh;
                    var ox = p % ow;
                    var row = rows.AsSpan(r * features, features);
                    for (var ci = 0L; ci < cg; ci++)
                    {
                        var plane = ((b * c) + g * cg + ci) * h * wd;
                        for (var i = 0L; i < kh; i++)
                        {
                            var iy = oy * strides[0] - padTop + i * dilations[0];
                            if (iy < 0 || iy >= h) continue;
                            for (var j = 0L; j < kw; j++)
                            {
                                var ix = ox * strides[1] - padLeft + j * dilations[1];
                                if (ix < 0 || ix >= wd) continue;
                                row[(int)((ci * kh + i) * kw + j)] = x.Data[plane + iy * wd + ix];
                            }
                        }
                    }
                    if (Request.FitBias) row[features - 1] = 1;
                    for (var o = 0; o < og; o++)
                    {
                        var channel = TargetChannel(g * og + o);
                        targets[r * og + o] = y.Data[((b * y.Dims[1] + channel) * oh + oy) * ow + ox];
                    }
                }
                _solvers![g].Add(rows, targets);
                _shift?.Add(sample, rows, features, targets, g * og, CurrentValue);
            }
            return null;
        }

        /// <summary>Gemm/MatMul: every input vector (last axis) is a row, sampled down to the position budget.</summary>
        private string? AddRows(ActivationTensor x, ActivationTensor y, int sample)
        {
            var k = _inputFeatures;
            if (x.Dims.Length < 2 || x.Dims[^1] != k) return $"input {string.Join("×", x.Dims)} does not end in the weight's {k} inputs";
            var count = x.Data.LongLength / k;
            var width = y.Dims.Length == 0 ? 0 : y.Dims[^1];
            if (!ChannelsFit(width) || y.Data.LongLength != count * width) return $"reference output {string.Join("×", y.Dims)} does not match {count} rows of {_outputs} outputs";
            var positions = Positions(count, sample);
            var features = Features;
            var rows = new double[positions.Length * features];
            var targets = new double[positions.Length * _outputs];
            for (var r = 0; r < positions.Length; r++)
            {
                var p = positions[r];
                for (var i = 0; i < k; i++) rows[r * features + i] = x.Data[p * k + i];
                if (Request.FitBias) rows[r * features + features - 1] = 1;
                for (var o = 0; o < _outputs; o++) targets[r * _outputs + o] = y.Data[p * width + TargetChannel(o)];
            }
            _solvers![0].Add(rows, targets);
            _shift?.Add(sample, rows, features, targets, 0, CurrentValue);
            return null;
        }

        private bool ChannelsFit(long referenceChannels) =>
            Request.TargetChannels is { } map ? map.Count == _outputs && map.All(c => c >= 0 && c < referenceChannels) : referenceChannels == _outputs;

        private long TargetChannel(int current) => Request.TargetChannels is { } map ? map[current] : current;

        /// <summary>Up to RepairSettings.Positions distinct positions of <paramref name="total"/>, seeded per layer and sample, ascending.</summary>
        private long[] Positions(long total, int sample)
        {
            var budget = _positions;
            if (total <= budget) return [.. Enumerable.Range(0, (int)total).Select(i => (long)i)];
            var random = new Random(unchecked(_seed + sample * 31337));
            var chosen = new HashSet<long>();
            while (chosen.Count < budget) chosen.Add(random.NextInt64(total));
            return [.. chosen.Order()];
        }

        /// <summary>The current weights and bias as one (features × outputs) matrix per group, row-major.</summary>
        private double[] Current(int g)
        {
            var features = Features;
            var og = OutputsPerGroup;
            var w = new double[features * og];
            for (var o = 0; o < og; o++)
            {
                for (var i = 0; i < features; i++) w[i * og + o] = CurrentValue(i, g * og + o);
            }
            return w;
        }

        /// <summary>
        /// The coefficient of feature <paramref name="i"/> for output <paramref name="output"/> as the layer is (α, β applied):
        /// a weight, or at i = the input features the bias (zero where the layer has none, e.g. a MatMul).
        /// </summary>
        private double CurrentValue(int i, int output) => i < _inputFeatures
            ? _alpha * _weights[WeightIndex(i, output)]
            : _bias == null ? 0 : _beta * _bias[_bias.Length == 1 ? 0 : output];

        /// <summary>Where input feature <paramref name="i"/> of output <paramref name="output"/> sits in the weight tensor.</summary>
        private int WeightIndex(int i, int output) => Request.Kind switch
        {
            RefitKind.Conv => output * _inputFeatures + i,
            RefitKind.Gemm when _transB => output * _inputFeatures + i,
            _ => i * _outputs + output,
        };

        public LayerRepair Finish(RepairSettings settings)
        {
            var node = Request.Node;
            var name = LayerNames.Of(node);
            if (Failure != null || _solvers == null) return LayerRepair.Skipped(name, node.OpType, 0, Failure ?? "no calibration samples");
            var rows = _solvers[0].Rows;
            var current = Enumerable.Range(0, Request.Groups).Select(Current).ToList();
            var before = Error(current);
            var supports = Request.Sparse ? current.Select(Supports).ToList() : null;
            var unknowns = supports?.Max(s => s.Max(x => x.Length)) ?? Features;
            if (rows < RowsPerUnknown * unknowns)
            {
                return CorrectMeanShift(current, before, $"{rows} calibration rows for {unknowns} unknowns per output (at least {RowsPerUnknown} per unknown)", settings);
            }
            var fitted = new List<double[]>();
            for (var g = 0; g < Request.Groups; g++)
            {
                var scale = _solvers[g].MeanDiagonal(_inputFeatures);
                if (double.IsNaN(scale) || double.IsInfinity(scale)) return LayerRepair.Skipped(name, node.OpType, rows, "its input holds NaN or infinite values", before);
                if (scale == 0)
                {
                    // A group whose input channels are all zero on the data (e.g. a dead channel of a depthwise conv): nothing to fit.
                    fitted.Add(current[g]);
                    continue;
                }
                var ridge = settings.Ridge * scale;
                try
                {
                    fitted.Add(KeepUnseen(_solvers[g], supports == null ? _solvers[g].Solve(ridge, current[g]) : _solvers[g].Solve(ridge, supports[g], current[g]), current[g]));
                }
                catch (InvalidOperationException e)
                {
                    return LayerRepair.Skipped(name, node.OpType, rows, e.Message, before);
                }
            }
            var (written, after, _) = DropNegligibleBias(fitted, Error(fitted));
            if (!(after < before)) return LayerRepair.Skipped(name, node.OpType, rows, $"the refit does not lower the error ({after:G3} vs {before:G3})", before);
            return new LayerRepair(name, node.OpType, rows, before, after, RefitScope.Full, null) { Detail = Write(written) };
        }

        /// <summary>
        /// The fallback when the rows are too few to determine the weights: the weights stay, each output's bias moves by the mean
        /// residual (<see cref="MeanShift"/>), written only when that correction, fitted without each sample in turn, lowers the
        /// error on the sample left out (summed over samples).
        /// </summary>
        /// <param name="few">Why the full refit cannot run (rows vs unknowns).</param>
        private LayerRepair CorrectMeanShift(List<double[]> current, double before, string few, RepairSettings settings)
        {
            var node = Request.Node;
            var name = LayerNames.Of(node);
            var rows = _solvers![0].Rows;
            var addSamples = $"{few}: add samples or raise {settings.PositionsOption}";
            if (_shift == null) return LayerRepair.Skipped(name, node.OpType, rows, addSamples, before);
            if (_shift.Samples < 2)
            {
                return LayerRepair.Skipped(name, node.OpType, rows, $"{addSamples}; the bias-only correction needs at least 2 samples to be checked on held-out ones", before);
            }
            var (residual, energy) = SquaredError(current);
            var heldOut = energy > 0 ? Math.Sqrt(Math.Max(0, residual + _shift.HeldOutChange()) / energy) : 0;
            var check = $"leave-one-sample-out error {heldOut:G3} vs {before:G3}";
            if (!(heldOut < before))
            {
                return LayerRepair.Skipped(name, node.OpType, rows, $"{addSamples}; the bias-only (mean-shift) correction does not lower the held-out error ({check})", before);
            }
            var shift = _shift.Correction();
            var fitted = WithBias(current, (output, bias) => bias + shift[output]);
            var corrected = Error(fitted);
            var (written, after, dropped) = DropNegligibleBias(fitted, corrected);
            if (dropped)
            {
                return LayerRepair.Skipped(name, node.OpType, rows,
                    $"{addSamples}; the bias-only correction lowers the error by less than {NewBiasMinGain:P0} ({corrected:G3} vs {before:G3}), too little for a new MatMul bias", before);
            }
            return new LayerRepair(name, node.OpType, rows, before, after, RefitScope.BiasOnly, null)
            {
                Detail = string.Join("; ", new[] { $"bias only: {few}", check, Write(written) }.OfType<string>()),
            };
        }

        /// <summary>
        /// A MatMul's fitted bias is a parameter the layer did not have: it is written only when it lowers the calibration error
        /// by at least <see cref="NewBiasMinGain"/> against the same weights without it. Returns the weights to write (the bias row
        /// zeroed when it is not worth it), their error, and whether the bias was dropped.
        /// </summary>
        private (List<double[]> Fitted, double Error, bool Dropped) DropNegligibleBias(List<double[]> fitted, double error)
        {
            if (Request.Kind != RefitKind.MatMul) return (fitted, error, false);
            var without = WithBias(fitted, (_, _) => 0);
            var errorWithout = Error(without);
            return errorWithout < error * (1 + NewBiasMinGain) ? (without, errorWithout, true) : (fitted, error, false);
        }

        /// <summary>Copies of <paramref name="weights"/> (per group) whose bias of each output is bias(output, its bias there).</summary>
        private List<double[]> WithBias(IReadOnlyList<double[]> weights, Func<int, double, double> bias)
        {
            var og = OutputsPerGroup;
            var row = (Features - 1) * og;
            return [.. weights.Select((w, g) =>
            {
                var copy = (double[])w.Clone();
                for (var o = 0; o < og; o++) copy[row + o] = bias(g * og + o, w[row + o]);
                return copy;
            })];
        }

        /// <summary>
        /// Inputs that are zero on every calibration row (dead channels, padding-only taps) leave the fit undetermined and
        /// the ridge drives their weights to zero; they keep their current weights instead (same error on the data, and a
        /// magnitude-pruned layer gains no zeros).
        /// </summary>
        private double[] KeepUnseen(LeastSquares solver, double[] fitted, double[] current)
        {
            var og = OutputsPerGroup;
            for (var i = 0; i < _inputFeatures; i++)
            {
                if (solver.Diagonal(i) != 0) continue;
                for (var o = 0; o < og; o++) fitted[i * og + o] = current[i * og + o];
            }
            return fitted;
        }

        /// <summary>‖XW − Y‖/‖Y‖ over every group together.</summary>
        private double Error(IReadOnlyList<double[]> weights)
        {
            var (residual, energy) = SquaredError(weights);
            return energy > 0 ? Math.Sqrt(residual / energy) : 0;
        }

        /// <summary>‖XW − Y‖² and ‖Y‖² over every group together.</summary>
        private (double Residual, double Energy) SquaredError(IReadOnlyList<double[]> weights)
        {
            double residual = 0, energy = 0;
            for (var g = 0; g < weights.Count; g++)
            {
                var (r, e) = _solvers![g].SquaredError(weights[g]);
                residual += r;
                energy += e;
            }
            return (residual, energy);
        }

        /// <summary>Per output, the features with a non-zero weight, plus the bias.</summary>
        private int[][] Supports(double[] w)
        {
            var og = OutputsPerGroup;
            var result = new int[og][];
            for (var o = 0; o < og; o++)
            {
                var s = new List<int>();
                for (var i = 0; i < _inputFeatures; i++)
                {
                    if (w[i * og + o] != 0) s.Add(i);
                }
                if (Request.FitBias) s.Add(Features - 1);
                result[o] = [.. s];
            }
            return result;
        }

        /// <summary>
        /// Writes the fitted weights (and bias) back as new tensors of the original element type; returns where a MatMul's bias
        /// went (null for other layers and for a MatMul without one).
        /// </summary>
        private string? Write(IReadOnlyList<double[]> fitted)
        {
            var node = Request.Node;
            var edit = new GraphEditor(node.Graph);
            var weights = new double[_weights.Length];
            var bias = new double[_outputs];
            var og = OutputsPerGroup;
            for (var g = 0; g < fitted.Count; g++)
            {
                for (var o = 0; o < og; o++)
                {
                    var output = g * og + o;
                    for (var i = 0; i < _inputFeatures; i++) weights[WeightIndex(i, output)] = fitted[g][i * og + o] / _alpha;
                    if (Request.FitBias) bias[output] = fitted[g][(Features - 1) * og + o] / _beta;
                }
            }
            var w = node.Input(ConvInput.W)!.Constant!;
            WeightTensors.Replace(edit, node, ConvInput.W, "repaired_weight", FloatTensors.Create(w.Name, w.DataType, _weightDims, weights));
            if (!Request.FitBias) return null;
            if (Request.Kind == RefitKind.MatMul) return WriteMatMulBias(edit, bias, w.DataType);
            var old = node.Input(ConvInput.B)?.Constant;
            var tensor = FloatTensors.Create(old?.Name ?? $"{LayerNames.Of(node)}/repaired_bias", old?.DataType ?? w.DataType, [_outputs], bias);
            if (old != null) WeightTensors.Replace(edit, node, ConvInput.B, "repaired_bias", tensor);
            else node.SetInput(ConvInput.B, edit.Constant(node, "repaired_bias", tensor));
            return null;
        }

        /// <summary>
        /// A MatMul's bias (all zero: nothing to write) is added to the constant of the Add after it (<see cref="FollowingAdd"/>),
        /// or else added by a new Add of a [N] constant, broadcast along the last axis, that takes over the MatMul's uses.
        /// </summary>
        private string? WriteMatMulBias(GraphEditor edit, double[] bias, TensorDataType type)
        {
            if (bias.All(b => b == 0)) return null;
            var node = Request.Node;
            if (FollowingAdd() is var (add, operand))
            {
                var c = add.Input(operand)!.Constant!;
                var values = FloatTensors.ToDoubles(c)!;
                for (var i = 0; i < values.Length; i++) values[i] += bias[i % _outputs];
                WeightTensors.Replace(edit, add, operand, "refit_bias", FloatTensors.Create(c.Name, c.DataType, c.DimsArray(), values));
                return $"bias folded into {LayerNames.Label(add)}";
            }
            var constant = edit.Constant(node, "refit_bias", FloatTensors.Create($"{LayerNames.Of(node)}/refit_bias", type, [_outputs], bias));
            return $"bias in a new Add {edit.InsertAfter(node.Output(0), "refit_bias_add", OpTypes.Add, [constant]).Name}";
        }

        /// <summary>
        /// For a MatMul: the Add that alone reads its output, with a constant operand of the weight's type whose last axis spans the
        /// outputs (the bias of the usual linear layer; adding a [N] vector along that axis keeps its shape). Null when there is none.
        /// </summary>
        private (Node Add, int Operand)? FollowingAdd()
        {
            var output = Request.Node.Output(0);
            if (output.IsGraphOutput || output.Uses is not [var use]) return null;
            var add = use.Node;
            if (!add.Is(OpTypes.Add) || add.Inputs.Count != 2) return null;
            var operand = 1 - use.InputIndex;
            var type = Request.Node.Input(ConvInput.W)!.Constant!.DataType;
            return add.Input(operand)?.Constant is { } c && c.DataType == type && c.Rank >= 1 && c.DimsArray()[^1] == _outputs ? (add, operand) : null;
        }
    }

    /// <summary>The top and left padding of a 2-D conv, from <c>pads</c> or <c>auto_pad</c>.</summary>
    private static (long Top, long Left) BeginPads(Node node, long h, long w, long oh, long ow, long kh, long kw, IReadOnlyList<long> strides, IReadOnlyList<long> dilations)
    {
        var autoPad = node.GetString(AttrNames.AutoPad, "NOTSET");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            long Begin(long input, long output, long k, long s, long d)
            {
                var total = Math.Max(0, (output - 1) * s + (k - 1) * d + 1 - input);
                return autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
            }
            return (Begin(h, oh, kh, strides[0], dilations[0]), Begin(w, ow, kw, strides[1], dilations[1]));
        }
        if (autoPad == "VALID") return (0, 0);
        var pads = node.GetInts(AttrNames.Pads);
        return pads is { Count: >= 2 } ? (pads[0], pads[1]) : (0, 0);
    }
}

/// <summary>The kinds of layer <see cref="LayerRefit"/> refits.</summary>
internal enum RefitKind
{
    Conv,
    Gemm,
    MatMul,
}

/// <summary>One layer to refit: its input in the pruned model, its output in the reference model, and how outputs map.</summary>
/// <param name="TargetChannels">For each current output channel, its index in the reference output; null: the same index.</param>
/// <param name="Sparse">Keep the weights that are zero now at zero.</param>
/// <param name="Groups">Conv groups (1 for Gemm/MatMul): each group is its own least-squares problem.</param>
/// <param name="FitBias">Fit a bias too (Conv, MatMul; Gemm with beta ≠ 0).</param>
internal sealed record RefitRequest(Node Node, RefitKind Kind, string Input, string Target, IReadOnlyList<long>? TargetChannels, bool Sparse, int Groups, bool FitBias);

/// <summary>How <see cref="LayerRefit"/> samples and regularizes.</summary>
/// <param name="Positions">Output positions sampled per sample and layer (Conv), or input rows (Gemm/MatMul).</param>
/// <param name="Ridge">λ relative to the mean of XᵀX's diagonal.</param>
/// <param name="Seed">Seeds the position sampling (deterministic results).</param>
/// <param name="PositionsOption">The name of the option that sets <paramref name="Positions"/>, for messages.</param>
internal sealed record RepairSettings(int Positions, double Ridge, int Seed, string PositionsOption = "RepairPositions");

/// <summary>What the refits of one pass run cost, accumulated over its calls to <see cref="LayerRefit.Run"/>.</summary>
internal sealed class RepairStatistics
{
    public int Samples { get; set; }
    public int Layers { get; set; }
    public double Seconds { get; set; }
}

/// <summary>What a refit wrote.</summary>
public enum RefitScope
{
    /// <summary>The weights and the bias, fitted by ridge least squares.</summary>
    Full,

    /// <summary>The bias alone, moved by the mean residual (the mean-shift correction): too few rows to fit the weights.</summary>
    BiasOnly,
}

/// <summary>
/// One layer's refit from calibration activations: the relative error ‖Y_ref − Y‖/‖Y_ref‖ of its outputs on the calibration
/// rows before the refit (pruned weights as they are) and after (null when not refit), what was refit, and why it was not.
/// </summary>
/// <param name="Node">The layer (node name, or first output name when unnamed).</param>
/// <param name="Rows">Calibration rows (sampled positions or input vectors) the fit used.</param>
/// <param name="ErrorBefore">Relative output error with the pruned weights; null when not measured.</param>
/// <param name="ErrorAfter">Relative output error with the refit weights; null when not refit.</param>
/// <param name="Scope">What was written: the weights and bias, or the bias alone; null when the layer was not refit.</param>
/// <param name="SkipReason">Why the layer was not refit; null when it was.</param>
public sealed record LayerRepair(string Node, string OpType, long Rows, double? ErrorBefore, double? ErrorAfter, RefitScope? Scope, string? SkipReason)
{
    /// <summary>Whether a refit was written (<see cref="Scope"/> says which).</summary>
    public bool Applied => Scope != null;

    /// <summary>
    /// For an applied refit, what else to know: for <see cref="RefitScope.BiasOnly"/> why the weights were not refit and the
    /// held-out check that accepted the bias; for a MatMul where its bias went (folded into an Add, or a new Add). Null when nothing.
    /// </summary>
    public string? Detail { get; init; }

    internal static LayerRepair Skipped(string node, string opType, long rows, string reason, double? before = null) =>
        new(node, opType, rows, before, null, null, reason);

    /// <summary>"output error 0.312 → 0.041 (4,096 rows)", "output error 0.312 → 0.2 (8 rows; bias only: …)" or "output error 0.312; not refit: reason".</summary>
    public string Describe() => Applied
        ? $"output error {ErrorBefore:G3} → {ErrorAfter:G3} ({Rows:N0} rows{(Detail is { } d ? $"; {d}" : "")})"
        : $"{(ErrorBefore is { } b ? $"output error {b:G3}; " : "")}not refit: {SkipReason}";
}

/// <summary>What the repair of a pruning run did: whether it ran, on how many samples, how long, and per layer.</summary>
/// <param name="On">Whether repair ran (option on and activations provided).</param>
/// <param name="Samples">Calibration samples streamed per model run.</param>
/// <param name="Seconds">Wall time of the refits, model runs included.</param>
/// <param name="Layers">Per refit layer (or skipped one) in order.</param>
public sealed record RepairSummary(bool On, int Samples, double Seconds, IReadOnlyList<LayerRepair> Layers)
{
    /// <summary>No repair: the option is off or no activations were provided.</summary>
    public static RepairSummary Off { get; } = new(false, 0, 0, []);
}
