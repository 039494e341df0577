using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Ridge least squares for refitting a layer after pruning: W = argmin ‖X·W − Y‖²_F + λ‖W‖²_F, i.e. the solution of the
/// normal equations (XᵀX + λI)·W = XᵀY, by MathNet.Numerics' Cholesky. X holds one sample per row (e.g. the kept input channels of the next
/// layer, im2col'ed, from calibration activations), Y the outputs to reproduce (the original layer's outputs, bias
/// subtracted); append a column of ones to X to fit a bias too. Rows stream through <see cref="Add"/> in batches, so only
/// XᵀX (features²) and XᵀY (features·outputs) are held. Everything is double; results are deterministic.
/// </summary>
/// <param name="features">Columns of X (unknowns per output).</param>
/// <param name="outputs">Columns of Y (outputs fitted at once).</param>
public sealed class LeastSquares(int features, int outputs)
{
    public int Features { get; } = features > 0 ? features : throw new ArgumentOutOfRangeException(nameof(features), "at least one feature");
    public int Outputs { get; } = outputs > 0 ? outputs : throw new ArgumentOutOfRangeException(nameof(outputs), "at least one output");

    private readonly double[] _gram = new double[checked(features * features)];
    private readonly double[] _cross = new double[checked(features * outputs)];

    /// <summary>Rows added so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds samples: <paramref name="x"/> is rows×<see cref="Features"/> and <paramref name="y"/> rows×<see cref="Outputs"/>, both row-major.</summary>
    public void Add(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length % Features != 0) throw new ArgumentException($"x has {x.Length} values, not a multiple of {Features} features", nameof(x));
        var rows = x.Length / Features;
        if (y.Length != rows * Outputs) throw new ArgumentException($"y has {y.Length} values; {rows} rows × {Outputs} outputs need {rows * Outputs}", nameof(y));
        for (var r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * Features, Features);
            var yr = y.Slice(r * Outputs, Outputs);
            for (var i = 0; i < Features; i++)
            {
                var xi = xr[i];
                if (xi == 0) continue;
                var gramRow = _gram.AsSpan(i * Features, Features);
                for (var j = i; j < Features; j++) gramRow[j] += xi * xr[j];
                var crossRow = _cross.AsSpan(i * Outputs, Outputs);
                for (var k = 0; k < Outputs; k++) crossRow[k] += xi * yr[k];
            }
        }
        Rows += rows;
    }

    /// <summary>
    /// W (<see cref="Features"/>×<see cref="Outputs"/>, row-major) minimizing ‖X·W − Y‖² + <paramref name="ridge"/>·‖W‖².
    /// Throws when XᵀX + λI is not positive definite (too few rows or dependent columns with λ = 0): raise the ridge.
    /// </summary>
    public double[] Solve(double ridge = 0)
    {
        if (!(ridge >= 0) || double.IsInfinity(ridge)) throw new ArgumentOutOfRangeException(nameof(ridge), $"the ridge must be ≥ 0, not {ridge}");
        var n = Features;
        // Only the upper triangle is accumulated; mirror it and add λ on the diagonal, then factor with MathNet's Cholesky.
        var a = Matrix<double>.Build.Dense(n, n, (i, j) => (i <= j ? _gram[i * n + j] : _gram[j * n + i]) + (i == j ? ridge : 0));
        var b = Matrix<double>.Build.Dense(n, Outputs, (i, o) => _cross[i * Outputs + o]);
        Cholesky<double> factor;
        try
        {
            factor = a.Cholesky();
        }
        catch (ArgumentException)
        {
            throw Singular(0, ridge);
        }
        var diagonal = factor.Factor.Diagonal();
        for (var i = 0; i < n; i++)
        {
            // A pivot that is rounding noise means dependent columns: the solve would amplify it into garbage.
            if (!(diagonal[i] * diagonal[i] > 1e-12 * Math.Max(1, Math.Abs(a[i, i])))) throw Singular(i, ridge);
        }
        var w = factor.Solve(b);
        var result = new double[n * Outputs];
        for (var i = 0; i < n; i++)
        {
            for (var o = 0; o < Outputs; o++) result[i * Outputs + o] = w[i, o];
        }
        return result;
    }

    private InvalidOperationException Singular(int feature, double ridge) =>
        new($"XᵀX + λI is singular at feature {feature} ({Rows} rows, {Features} features, λ = {ridge}): add rows or set a ridge λ > 0");

    /// <summary>One-shot ridge fit of row-major <paramref name="x"/> (rows×features) to <paramref name="y"/> (rows×outputs).</summary>
    public static double[] Fit(ReadOnlySpan<double> x, int features, ReadOnlySpan<double> y, int outputs, double ridge = 0)
    {
        var solver = new LeastSquares(features, outputs);
        solver.Add(x, y);
        return solver.Solve(ridge);
    }
}
