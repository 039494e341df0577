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
    public void MismatchedShapes_AreRejected()
    {
        var solver = new LeastSquares(3, 2);

        Assert.Throws<ArgumentException>(() => solver.Add(new double[7], new double[4]));
        Assert.Throws<ArgumentException>(() => solver.Add(new double[6], new double[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => solver.Solve(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LeastSquares(0, 1));
    }
}
