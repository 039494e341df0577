namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// The mean-shift correction of a layer that has too few calibration rows to refit its weights: each output's bias moves by the
/// mean over the rows of its residual r = y_ref − y (the least-squares fit with the bias as the only unknown, the weights as they
/// are). Per calibration sample s it keeps the rows n_s and the residual sums R_s = Σ_{i∈s} r_i, which give the correction
/// d = Σ_s R_s / N and its leave-one-sample-out check: the correction fitted without sample s, d₋ₛ = (R − R_s)/(N − n_s),
/// changes that sample's squared error by Σ_{i∈s} ‖r_i − d₋ₛ‖² − ‖r_i‖² = n_s‖d₋ₛ‖² − 2·d₋ₛ·R_s.
/// <para>Why a held-out check: on its own rows the mean never does worse than the bias as it is (it is the least-squares optimum
/// among biases), so an in-sample test would accept any correction, also one that only fits the noise of a few samples. Summed
/// over samples, the change is negative when the shift is systematic (a factorization or pruning moved the outputs' mean) and
/// positive in expectation when it is noise. Unregularized: one unknown per output and at least two samples determine it.</para>
/// </summary>
/// <param name="outputs">Outputs of the layer (all conv groups together).</param>
internal sealed class MeanShift(int outputs)
{
    private readonly List<(long Rows, double[] Residual)> _samples = [];
    private int _lastSample = -1;

    /// <summary>Samples that gave at least one row.</summary>
    public int Samples => _samples.Count;

    /// <summary>
    /// Adds the residual sums of one block of rows of sample <paramref name="sample"/> (calls for one sample come together, one
    /// per conv group): <paramref name="rows"/> is n × <paramref name="features"/> and <paramref name="targets"/> n × count,
    /// row-major, for outputs <paramref name="first"/>… of the layer; <paramref name="current"/>(feature, output) is the layer's
    /// weight as it is, its bias in the last feature (the rows' constant 1).
    /// </summary>
    public void Add(int sample, ReadOnlySpan<double> rows, int features, ReadOnlySpan<double> targets, int first, Func<int, int, double> current)
    {
        var n = rows.Length / features;
        if (n == 0) return;
        var count = targets.Length / n;
        if (sample != _lastSample)
        {
            _samples.Add((n, new double[outputs]));
            _lastSample = sample;
        }
        var residual = _samples[^1].Residual;
        var sx = new double[features];
        for (var r = 0; r < n; r++)
        {
            var row = rows.Slice(r * features, features);
            for (var f = 0; f < features; f++) sx[f] += row[f];
        }
        for (var o = 0; o < count; o++)
        {
            double sum = 0;
            for (var r = 0; r < n; r++) sum += targets[r * count + o];
            for (var f = 0; f < features; f++) sum -= sx[f] * current(f, first + o);
            residual[first + o] += sum;
        }
    }

    /// <summary>The bias change per output: the mean residual over every row.</summary>
    public double[] Correction()
    {
        var (rows, total) = Totals();
        return [.. total.Select(t => t / rows)];
    }

    /// <summary>
    /// Σ over samples of the change in squared error that the correction fitted on the other samples makes on that sample's rows:
    /// negative when the correction holds up on rows it did not see. Needs at least 2 samples.
    /// </summary>
    public double HeldOutChange()
    {
        if (_samples.Count < 2) throw new InvalidOperationException($"the held-out check needs at least 2 samples, not {_samples.Count}");
        var (rows, total) = Totals();
        double change = 0;
        foreach (var (n, r) in _samples)
        {
            for (var o = 0; o < outputs; o++)
            {
                var d = (total[o] - r[o]) / (rows - n);
                change += n * d * d - 2 * d * r[o];
            }
        }
        return change;
    }

    private (long Rows, double[] Residual) Totals()
    {
        var total = new double[outputs];
        long rows = 0;
        foreach (var (n, r) in _samples)
        {
            rows += n;
            for (var o = 0; o < outputs; o++) total[o] += r[o];
        }
        return (rows, total);
    }
}
