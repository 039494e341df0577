using EdgeOpt.Onnx.Ir;
using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Random;

namespace EdgeOpt.Passes.Factorization;

/// <summary>
/// Rank-R CP (CANDECOMP/PARAFAC) of a dense tensor by alternating least squares: X ≈ Σ_t a⁽¹⁾_t ∘ … ∘ a⁽ᴺ⁾_t. Each sweep
/// solves every factor in turn from the mode-n unfolding, A_n = X_(n)·KR·(⊛_{m≠n} A_mᵀA_m)⁺ (KR the Khatri–Rao product of the
/// other factors in the unfolding's column order); it starts from the leading left singular vectors of each unfolding (seeded
/// Gaussian columns beyond a mode's size) and stops after the given sweeps or when the fit changes by less than 1e-7.
/// The weights λ_t are spread evenly over the factors (λ_t^(1/N) each).
/// </summary>
internal static class CpDecomposition
{
    /// <summary>The factors A_n (dims[n] × R), rounded to the weight type, and the fit of the rounded factors.</summary>
    internal sealed record Result(int Rank, Matrix<double>[] Factors, double RelativeError, int Iterations)
    {
        /// <summary>Factor <paramref name="mode"/> row-major as [dims[mode], R].</summary>
        public double[] Factor(int mode) => Factors[mode].ToRowMajorArray();

        /// <summary>Factor <paramref name="mode"/> row-major as [R, dims[mode]].</summary>
        public double[] Transposed(int mode) => Factors[mode].Transpose().ToRowMajorArray();
    }

    public static Result Fit(double[] t, int[] dims, int rank, int maxIterations, int seed, TensorDataType type)
    {
        var modes = dims.Length;
        var unfolded = Enumerable.Range(0, modes).Select(n => Unfolding.Unfold(t, dims, n)).ToArray();
        var normal = new Normal(0, 1, new MersenneTwister(seed, threadSafe: false));
        var factors = new Matrix<double>[modes];
        for (var n = 0; n < modes; n++)
        {
            var u = LowRank.Dense(unfolded[n]).U;
            var keep = Math.Min(rank, u.ColumnCount);
            factors[n] = Matrix<double>.Build.Dense(dims[n], rank, (i, j) => j < keep ? u[i, j] : normal.Sample() / Math.Sqrt(dims[n]));
        }
        var normSquared = Unfolding.SquaredNorm(t);
        var previous = double.PositiveInfinity;
        var sweeps = 0;
        while (sweeps < maxIterations)
        {
            sweeps++;
            double inner = 0, modelNorm = 0;
            for (var n = 0; n < modes; n++)
            {
                var gram = Matrix<double>.Build.Dense(rank, rank, 1.0);
                for (var m = 0; m < modes; m++)
                {
                    if (m != n) gram = gram.PointwiseMultiply(factors[m].TransposeThisAndMultiply(factors[m]));
                }
                var mttkrp = unfolded[n].Multiply(KhatriRao(factors, n));
                factors[n] = mttkrp.Multiply(gram.PseudoInverse());
                if (n == modes - 1)
                {
                    // ⟨X, X̂⟩ = Σ (X_(n)·KR) ⊙ A_n and ‖X̂‖² = Σ (⊛ A_mᵀA_m) over all modes, from the last update.
                    inner = mttkrp.PointwiseMultiply(factors[n]).Enumerate().Sum();
                    modelNorm = gram.PointwiseMultiply(factors[n].TransposeThisAndMultiply(factors[n])).Enumerate().Sum();
                }
            }
            var error = Math.Sqrt(Math.Max(0, normSquared - 2 * inner + modelNorm) / Math.Max(normSquared, double.Epsilon));
            if (Math.Abs(previous - error) < 1e-7) break;
            previous = error;
        }
        Balance(factors);
        for (var n = 0; n < modes; n++) factors[n] = Factors.Matrix(Factors.Round(factors[n], type), dims[n], rank);
        var rebuilt = Unfolding.Fold(factors[0].Multiply(KhatriRao(factors, 0).Transpose()), dims, 0);
        return new Result(rank, factors, Unfolding.RelativeError(t, rebuilt), sweeps);
    }

    /// <summary>The Khatri–Rao product of every factor but <paramref name="skip"/>, rows in the mode-<paramref name="skip"/> unfolding's column order.</summary>
    private static Matrix<double> KhatriRao(Matrix<double>[] factors, int skip)
    {
        var rank = factors[0].ColumnCount;
        var result = Matrix<double>.Build.Dense(1, rank, 1.0);
        for (var m = 0; m < factors.Length; m++)
        {
            if (m == skip) continue;
            var f = factors[m];
            var prev = result;
            result = Matrix<double>.Build.Dense(prev.RowCount * f.RowCount, rank, (row, t) => prev[row / f.RowCount, t] * f[row % f.RowCount, t]);
        }
        return result;
    }

    /// <summary>Scales the columns so that every factor's column t has norm λ_t^(1/N) (signs kept).</summary>
    private static void Balance(Matrix<double>[] factors)
    {
        var rank = factors[0].ColumnCount;
        for (var t = 0; t < rank; t++)
        {
            var norms = factors.Select(f => f.Column(t).L2Norm()).ToArray();
            if (norms.Any(n => n == 0)) continue;
            var share = Math.Pow(norms.Aggregate(1.0, (a, b) => a * b), 1.0 / factors.Length);
            for (var n = 0; n < factors.Length; n++) factors[n].SetColumn(t, factors[n].Column(t).Multiply(share / norms[n]));
        }
    }
}
