using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Ridge least squares for refitting a layer after pruning: W = argmin ‖X·W − Y‖²_F + λ‖W‖²_F, i.e. the solution of the
/// normal equations (XᵀX + λI)·W = XᵀY, by MathNet.Numerics' Cholesky. X holds one sample per row (e.g. the kept input channels of the next
/// layer, im2col'ed, from calibration activations), Y the outputs to reproduce (the original layer's outputs, bias
/// subtracted); append a column of ones to X to fit a bias too. Rows stream through <see cref="Add"/> in batches, so only
/// XᵀX (features²), XᵀY (features·outputs) and the per-output energy YᵀY are held: memory does not grow with the rows.
/// The energies give the residual ‖X·W − Y‖ of any W without the rows (<see cref="RelativeError"/>). Everything is double;
/// results are deterministic.
/// </summary>
/// <param name="features">Columns of X (unknowns per output).</param>
/// <param name="outputs">Columns of Y (outputs fitted at once).</param>
public sealed class LeastSquares(int features, int outputs)
{
    public int Features { get; } = features > 0 ? features : throw new ArgumentOutOfRangeException(nameof(features), "at least one feature");
    public int Outputs { get; } = outputs > 0 ? outputs : throw new ArgumentOutOfRangeException(nameof(outputs), "at least one output");

    private readonly Matrix<double> _gram = Matrix<double>.Build.Dense(features, features);
    private readonly Matrix<double> _cross = Matrix<double>.Build.Dense(features, outputs);
    private readonly double[] _energy = new double[outputs];

    /// <summary>Rows added so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds samples: <paramref name="x"/> is rows×<see cref="Features"/> and <paramref name="y"/> rows×<see cref="Outputs"/>, both row-major.</summary>
    public void Add(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length % Features != 0) throw new ArgumentException($"x has {x.Length} values, not a multiple of {Features} features", nameof(x));
        var rows = x.Length / Features;
        if (y.Length != rows * Outputs) throw new ArgumentException($"y has {y.Length} values; {rows} rows × {Outputs} outputs need {rows * Outputs}", nameof(y));
        if (rows == 0) return;
        // Row-major rows×F is column-major F×rows: Xᵀ without copying element by element.
        var xt = Matrix<double>.Build.Dense(Features, rows, x.ToArray());
        var yt = Matrix<double>.Build.Dense(Outputs, rows, y.ToArray());
        _gram.Add(xt.TransposeAndMultiply(xt), _gram);
        _cross.Add(xt.TransposeAndMultiply(yt), _cross);
        for (var r = 0; r < rows; r++)
        {
            var yr = y.Slice(r * Outputs, Outputs);
            for (var o = 0; o < Outputs; o++) _energy[o] += yr[o] * yr[o];
        }
        Rows += rows;
    }

    /// <summary>The mean of XᵀX's diagonal over <paramref name="count"/> leading features (all when null): the scale a relative ridge multiplies.</summary>
    public double MeanDiagonal(int? count = null)
    {
        var n = Math.Clamp(count ?? Features, 1, Features);
        double sum = 0;
        for (var i = 0; i < n; i++) sum += _gram[i, i];
        return sum / n;
    }

    /// <summary>Σ x_i² over the rows added: zero when feature <paramref name="feature"/> never took a non-zero value.</summary>
    public double Diagonal(int feature) => _gram[feature, feature];

    /// <summary>
    /// W (<see cref="Features"/>×<see cref="Outputs"/>, row-major) minimizing ‖X·W − Y‖² + <paramref name="ridge"/>·‖W − W₀‖²,
    /// W₀ = <paramref name="prior"/> (same layout; zero when null): the ridge pulls towards W₀ where the data say little.
    /// Throws when XᵀX + λI is not positive definite (too few rows or dependent columns with λ = 0): raise the ridge.
    /// </summary>
    public double[] Solve(double ridge = 0, double[]? prior = null)
    {
        CheckRidge(ridge);
        CheckPrior(prior);
        var n = Features;
        var a = _gram.Clone();
        for (var i = 0; i < n; i++) a[i, i] += ridge;
        var b = _cross.Clone();
        if (prior != null) b.Add(Matrix<double>.Build.Dense(Outputs, n, prior).Transpose().Multiply(ridge), b);
        var w = Factor(a, ridge).Solve(b);
        var result = new double[n * Outputs];
        for (var i = 0; i < n; i++)
        {
            for (var o = 0; o < Outputs; o++) result[i * Outputs + o] = w[i, o];
        }
        return result;
    }

    /// <summary>
    /// Like <see cref="Solve(double, double[])"/>, but output o may only use the features <paramref name="supports"/>[o] (ascending);
    /// its other weights are zero. One small system per output: the sparse refit of a magnitude-pruned layer, whose zeros stay zero.
    /// </summary>
    public double[] Solve(double ridge, IReadOnlyList<int[]> supports, double[]? prior = null)
    {
        CheckRidge(ridge);
        CheckPrior(prior);
        if (supports.Count != Outputs) throw new ArgumentException($"{supports.Count} supports for {Outputs} outputs", nameof(supports));
        var result = new double[Features * Outputs];
        for (var o = 0; o < Outputs; o++)
        {
            var s = supports[o];
            if (s.Length == 0) continue;
            var a = Matrix<double>.Build.Dense(s.Length, s.Length, (i, j) => _gram[s[i], s[j]] + (i == j ? ridge : 0));
            var b = Vector<double>.Build.Dense(s.Length, i => _cross[s[i], o] + (prior == null ? 0 : ridge * prior[s[i] * Outputs + o]));
            var w = Factor(a, ridge).Solve(b);
            for (var i = 0; i < s.Length; i++) result[s[i] * Outputs + o] = w[i];
        }
        return result;
    }

    /// <summary>
    /// ‖X·W − Y‖_F / ‖Y‖_F over the rows added, for <paramref name="w"/> (<see cref="Features"/>×<see cref="Outputs"/>,
    /// row-major), from the accumulated XᵀX, XᵀY and YᵀY; 0 when Y is all zero.
    /// </summary>
    public double RelativeError(ReadOnlySpan<double> w)
    {
        var (residual, energy) = SquaredError(w);
        return energy > 0 ? Math.Sqrt(residual / energy) : 0;
    }

    /// <summary>‖X·W − Y‖²_F (clamped at 0 against rounding) and ‖Y‖²_F over the rows added, from the accumulated products.</summary>
    public (double Residual, double Energy) SquaredError(ReadOnlySpan<double> w)
    {
        if (w.Length != Features * Outputs) throw new ArgumentException($"w has {w.Length} values, not {Features}×{Outputs}", nameof(w));
        var wm = Matrix<double>.Build.Dense(Outputs, Features, w.ToArray()).Transpose();
        var gw = _gram * wm;
        double energy = 0, residual = 0;
        for (var o = 0; o < Outputs; o++)
        {
            energy += _energy[o];
            double quadratic = 0, cross = 0;
            for (var i = 0; i < Features; i++)
            {
                quadratic += wm[i, o] * gw[i, o];
                cross += wm[i, o] * _cross[i, o];
            }
            residual += _energy[o] - 2 * cross + quadratic;
        }
        return (Math.Max(0, residual), energy);
    }

    private void CheckPrior(double[]? prior)
    {
        if (prior != null && prior.Length != Features * Outputs) throw new ArgumentException($"the prior has {prior.Length} values, not {Features}×{Outputs}", nameof(prior));
    }

    private static void CheckRidge(double ridge)
    {
        if (!(ridge >= 0) || double.IsInfinity(ridge)) throw new ArgumentOutOfRangeException(nameof(ridge), $"the ridge must be ≥ 0, not {ridge}");
    }

    private Cholesky<double> Factor(Matrix<double> a, double ridge)
    {
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
        for (var i = 0; i < a.RowCount; i++)
        {
            // A pivot that is rounding noise means dependent columns: the solve would amplify it into garbage.
            if (!(diagonal[i] * diagonal[i] > 1e-12 * Math.Max(1, Math.Abs(a[i, i])))) throw Singular(i, ridge);
        }
        return factor;
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
