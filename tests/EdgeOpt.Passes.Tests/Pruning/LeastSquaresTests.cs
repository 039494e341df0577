using EdgeOpt.Passes.Pruning;

namespace EdgeOpt.Passes.Tests.Pruning;

public class LeastSquaresTests
{
    private static double[] Random(int count, int seed)
    {
        var r = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => r.NextDouble() * 2 - 1)];
    }

    /// <summary>Row-major rows×cols times cols×outputs.</summary>
    private static double[] Multiply(double[] a, int rows, int cols, double[] b, int outputs)
    {
        var c = new double[rows * outputs];
        for (var i = 0; i < rows; i++)
        {
            for (var k = 0; k < cols; k++)
            {
                for (var j = 0; j < outputs; j++) c[i * outputs + j] += a[i * cols + k] * b[k * outputs + j];
            }
        }
        return c;
    }

    [Test]
    public void NoiseFreeData_RecoversTheWeights()
    {
        var x = Random(50 * 5, 1);
        var w = Random(5 * 3, 2);

        var fit = LeastSquares.Fit(x, 5, Multiply(x, 50, 5, w, 3), 3);

        Assert.That(fit, Is.EqualTo(w).Within(1e-9));
    }

    [Test]
    public void Batches_GiveTheSameFitAsOneShot()
    {
        var x = Random(40 * 4, 3);
        var y = Random(40 * 2, 4);
        var solver = new LeastSquares(4, 2);

        solver.Add(x.AsSpan(0, 16 * 4), y.AsSpan(0, 16 * 2));
        solver.Add(x.AsSpan(16 * 4), y.AsSpan(16 * 2));

        Assert.That(solver.Rows, Is.EqualTo(40));
        Assert.That(solver.Solve(0.1), Is.EqualTo(LeastSquares.Fit(x, 4, y, 2, 0.1)).Within(1e-12));
    }

    [Test]
    public void Ridge_ShrinksTheWeights()
    {
        var x = Random(30 * 6, 5);
        var y = Random(30, 6);
        static double Norm(double[] v) => Math.Sqrt(v.Sum(d => d * d));

        var norms = new[] { 0.0, 1, 10, 100 }.Select(l => Norm(LeastSquares.Fit(x, 6, y, 1, l))).ToList();

        Assert.That(norms, Is.Ordered.Descending);
    }

    [Test]
    public void DependentColumns_NeedARidge()
    {
        var x = Random(20 * 3, 7);
        for (var r = 0; r < 20; r++) x[r * 3 + 2] = x[r * 3];
        var y = Random(20, 8);

        Assert.That(() => LeastSquares.Fit(x, 3, y, 1), Throws.InvalidOperationException.With.Message.Contains("ridge"));
        var fit = LeastSquares.Fit(x, 3, y, 1, 1e-3);
        Assert.That(fit[0], Is.EqualTo(fit[2]).Within(1e-9), "the ridge splits the weight evenly over identical columns");
    }

    [Test]
    public void RemovedColumnIsACombinationOfKeptOnes_RefitRecoversTheOutput()
    {
        // Four input channels; channel 3 = 0.5·x0 − x1, so dropping it loses nothing a refit of the others cannot restore.
        const int rows = 200;
        var full = Random(rows * 4, 11);
        for (var r = 0; r < rows; r++) full[r * 4 + 3] = 0.5 * full[r * 4] - full[r * 4 + 1];
        var w = Random(4 * 2, 12);
        var y = Multiply(full, rows, 4, w, 2);
        var kept = new double[rows * 3];
        for (var r = 0; r < rows; r++) Array.Copy(full, r * 4, kept, r * 3, 3);
        var solver = new LeastSquares(3, 2);
        solver.Add(kept, y);

        var before = solver.RelativeError(w.AsSpan(0, 3 * 2));
        var after = solver.RelativeError(solver.Solve(1e-9 * solver.MeanDiagonal()));

        Assert.That(before, Is.GreaterThan(0.1), "dropping the channel without a refit loses its share of the output");
        Assert.That(after, Is.LessThan(1e-6 * before), "the refit folds the removed channel into the kept ones");
    }

    [Test]
    public void RelativeError_MatchesTheResidualComputedFromTheRows()
    {
        var x = Random(30 * 4, 13);
        var y = Random(30 * 2, 14);
        var w = Random(4 * 2, 15);
        var solver = new LeastSquares(4, 2);
        solver.Add(x, y);
        var fitted = Multiply(x, 30, 4, w, 2);

        var direct = Math.Sqrt(y.Zip(fitted, (a, b) => (a - b) * (a - b)).Sum() / y.Sum(v => v * v));

        Assert.That(solver.RelativeError(w), Is.EqualTo(direct).Within(1e-9));
    }

    [Test]
    public void SupportSolve_KeepsOtherWeightsZeroAndFitsBetterThanTheMaskedWeights()
    {
        var x = Random(100 * 5, 16);
        var w = Random(5 * 2, 17);
        var y = Multiply(x, 100, 5, w, 2);
        var solver = new LeastSquares(5, 2);
        solver.Add(x, y);
        int[][] supports = [[0, 2, 4], [1, 3]];
        var masked = new double[10];
        foreach (var (o, s) in supports.Select((s, o) => (o, s)))
        {
            foreach (var i in s) masked[i * 2 + o] = w[i * 2 + o];
        }

        var fit = solver.Solve(0, supports);

        for (var o = 0; o < 2; o++)
        {
            for (var i = 0; i < 5; i++)
            {
                if (!supports[o].Contains(i)) Assert.That(fit[i * 2 + o], Is.Zero, $"weight ({i}, {o}) is outside the support");
            }
        }
        Assert.That(solver.RelativeError(fit), Is.LessThan(solver.RelativeError(masked)));
    }

    [Test]
    public void MismatchedShapes_AreRejected()
    {
        var solver = new LeastSquares(3, 2);

        Assert.Throws<ArgumentException>(() => solver.Add(new double[7], new double[4]));
        Assert.Throws<ArgumentException>(() => solver.Add(new double[6], new double[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => solver.Solve(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LeastSquares(0, 1));
    }
}
