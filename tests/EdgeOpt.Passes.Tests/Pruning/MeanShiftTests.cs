using EdgeOpt.Passes.Pruning;

namespace EdgeOpt.Passes.Tests.Pruning;

/// <summary>
/// <see cref="MeanShift"/>'s closed forms against the brute force on explicit rows: the mean residual, and the squared error
/// change that the correction fitted without each sample makes on that sample.
/// </summary>
public class MeanShiftTests
{
    private const int Features = 4; // 3 inputs and the bias column of ones
    private const int Outputs = 3;

    /// <summary>Seeded rows (last feature 1) and targets = rows·W + <paramref name="offset"/> + noise, for samples of varying row counts.</summary>
    private static List<(double[] Rows, double[] Targets)> Samples(int count, double offset, int seed)
    {
        var random = new Random(seed);
        var samples = new List<(double[], double[])>();
        for (var s = 0; s < count; s++)
        {
            var n = 1 + s % 3;
            var rows = new double[n * Features];
            var targets = new double[n * Outputs];
            for (var r = 0; r < n; r++)
            {
                for (var f = 0; f < Features - 1; f++) rows[r * Features + f] = random.NextDouble();
                rows[r * Features + Features - 1] = 1;
                for (var o = 0; o < Outputs; o++)
                {
                    var y = offset * (o + 1) + 0.3 * (random.NextDouble() - 0.5);
                    for (var f = 0; f < Features; f++) y += rows[r * Features + f] * Weight(f, o);
                    targets[r * Outputs + o] = y;
                }
            }
            samples.Add((rows, targets));
        }
        return samples;
    }

    /// <summary>The layer's weights as they are; feature 3 is the bias.</summary>
    private static double Weight(int feature, int output) => 0.1 * (feature + 1) - 0.2 * output;

    private static MeanShift Accumulate(List<(double[] Rows, double[] Targets)> samples)
    {
        var shift = new MeanShift(Outputs);
        for (var s = 0; s < samples.Count; s++) shift.Add(s, samples[s].Rows, Features, samples[s].Targets, 0, Weight);
        return shift;
    }

    /// <summary>The residuals r = y − x·W of every row of <paramref name="sample"/>, per output.</summary>
    private static IEnumerable<double[]> Residuals((double[] Rows, double[] Targets) sample)
    {
        var n = sample.Rows.Length / Features;
        for (var r = 0; r < n; r++)
        {
            var residual = new double[Outputs];
            for (var o = 0; o < Outputs; o++)
            {
                residual[o] = sample.Targets[r * Outputs + o];
                for (var f = 0; f < Features; f++) residual[o] -= sample.Rows[r * Features + f] * Weight(f, o);
            }
            yield return residual;
        }
    }

    private static double[] Mean(IEnumerable<double[]> residuals)
    {
        var all = residuals.ToList();
        return [.. Enumerable.Range(0, Outputs).Select(o => all.Average(r => r[o]))];
    }

    [TestCase(0.0)]
    [TestCase(0.8)]
    public void ClosedForms_MatchTheBruteForceOnTheRows(double offset)
    {
        var samples = Samples(7, offset, seed: 5);

        var shift = Accumulate(samples);

        Assert.That(shift.Samples, Is.EqualTo(7));
        Assert.That(shift.Correction(), Is.EqualTo(Mean(samples.SelectMany(Residuals))).Within(1e-12));
        double change = 0;
        for (var s = 0; s < samples.Count; s++)
        {
            var d = Mean(samples.Where((_, j) => j != s).SelectMany(Residuals));
            foreach (var r in Residuals(samples[s]))
            {
                for (var o = 0; o < Outputs; o++) change += (r[o] - d[o]) * (r[o] - d[o]) - r[o] * r[o];
            }
        }
        Assert.That(shift.HeldOutChange(), Is.EqualTo(change).Within(1e-9 * Math.Max(1, Math.Abs(change))));
    }

    [Test]
    public void HeldOutChange_IsNegativeForASystematicShiftAndPositiveForNoise()
    {
        Assert.That(Accumulate(Samples(8, 0.8, seed: 6)).HeldOutChange(), Is.Negative, "the targets sit 0.8·(o+1) above the layer's outputs");
        Assert.That(Accumulate(Samples(8, 0.0, seed: 6)).HeldOutChange(), Is.Positive, "zero-mean noise: a correction fitted on it does not carry over");
    }

    [Test]
    public void EmptyBlocks_DoNotCountAsSamples()
    {
        var shift = new MeanShift(Outputs);
        var samples = Samples(1, 0.5, seed: 7);
        shift.Add(0, [], Features, [], 0, Weight);
        shift.Add(1, samples[0].Rows, Features, samples[0].Targets, 0, Weight);

        Assert.That(shift.Samples, Is.EqualTo(1));
        Assert.Throws<InvalidOperationException>(() => shift.HeldOutChange(), "one sample leaves none to check on");
    }
}
