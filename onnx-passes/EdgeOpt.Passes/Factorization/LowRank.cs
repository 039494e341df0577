using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using MathNet.Numerics.Random;

namespace EdgeOpt.Passes.Factorization;

/// <summary>
/// The leading singular triplets of a matrix A (n×m): A ≈ U·diag(S)·Vᵀ with U n×l and V m×l orthonormal columns, S descending.
/// </summary>
/// <param name="Complete">True when S holds every singular value (a dense SVD), false for a randomized sketch's leading part.</param>
internal sealed record Spectrum(Matrix<double> U, double[] S, Matrix<double> V, bool Complete)
{
    /// <summary>The squared singular values, for energy-based rank choice.</summary>
    public double[] Squares => [.. S.Select(s => s * s)];

    /// <summary>(U_r·√Σ_r, √Σ_r·V_rᵀ): the two factors of the rank-<paramref name="rank"/> truncation, √Σ split between them.</summary>
    public (Matrix<double> Left, Matrix<double> Right) Split(int rank)
    {
        var root = Vector<double>.Build.Dense(rank, i => Math.Sqrt(S[i]));
        var left = U.SubMatrix(0, U.RowCount, 0, rank).Multiply(Matrix<double>.Build.DiagonalOfDiagonalVector(root));
        var right = Matrix<double>.Build.DiagonalOfDiagonalVector(root).TransposeAndMultiply(V.SubMatrix(0, V.RowCount, 0, rank));
        return (left, right);
    }
}

/// <summary>
/// Truncated SVDs on MathNet.Numerics matrices: a dense one (thin QR of the tall orientation, then the SVD of the square R, so
/// no n×n or m×m factor is ever formed), and a randomized one for large matrices (Halko, Martinsson and Tropp 2011: Gaussian
/// range finder with oversampling and power iterations, re-orthonormalized by QR after every product). Both are
/// deterministic: the randomized one draws its test matrix from a Mersenne Twister seeded by the caller.
/// </summary>
internal static class LowRank
{
    /// <summary>
    /// The leading singular triplets of <paramref name="a"/>, at least <paramref name="rank"/> of them: randomized when the smaller
    /// side is at least <see cref="FactorizeOptions.RandomizedMinDim"/> and the sketch is smaller than that side, dense otherwise.
    /// </summary>
    public static Spectrum Svd(Matrix<double> a, int rank, FactorizeOptions options, int seed)
    {
        var small = Math.Min(a.RowCount, a.ColumnCount);
        var sketch = rank + options.Oversampling;
        return small >= options.RandomizedMinDim && sketch < small
            ? Randomized(a, rank, options.Oversampling, options.PowerIterations, seed)
            : Dense(a);
    }

    /// <summary>The complete thin SVD: U n×p, S p, V m×p with p = min(n, m).</summary>
    public static Spectrum Dense(Matrix<double> a)
    {
        if (a.RowCount < a.ColumnCount)
        {
            var t = Dense(a.Transpose());
            return new Spectrum(t.V, t.S, t.U, true);
        }
        // Tall: A = Q·R (Q n×m, R m×m), R = Ur·S·Vrᵀ, so A = (Q·Ur)·S·Vrᵀ.
        var qr = a.QR(QRMethod.Thin);
        var svd = qr.R.Svd(computeVectors: true);
        return Sorted(qr.Q.Multiply(svd.U), svd.S.ToArray(), svd.VT.Transpose(), complete: true);
    }

    /// <summary>
    /// A randomized SVD with <paramref name="rank"/> + <paramref name="oversampling"/> sketch columns (at most min(n, m)) and
    /// <paramref name="powerIterations"/> power iterations; the test matrix is Gaussian from a Mersenne Twister seeded with
    /// <paramref name="seed"/>, so the same input and seed give the same bits.
    /// </summary>
    public static Spectrum Randomized(Matrix<double> a, int rank, int oversampling, int powerIterations, int seed)
    {
        var sketch = Math.Min(Math.Min(a.RowCount, a.ColumnCount), rank + oversampling);
        var normal = new Normal(0, 1, new MersenneTwister(seed, threadSafe: false));
        var omega = Matrix<double>.Build.Random(a.ColumnCount, sketch, normal);
        var q = Orthonormal(a.Multiply(omega));
        for (var i = 0; i < powerIterations; i++)
        {
            var z = Orthonormal(a.TransposeThisAndMultiply(q));
            q = Orthonormal(a.Multiply(z));
        }
        // A ≈ Q·(QᵀA); the small l×m matrix B = QᵀA gets the dense SVD.
        var b = q.TransposeThisAndMultiply(a);
        var small = Dense(b);
        return new Spectrum(q.Multiply(small.U), small.S, small.V, Complete: false);
    }

    private static Matrix<double> Orthonormal(Matrix<double> y) => y.QR(QRMethod.Thin).Q;

    /// <summary>The triplets in descending order of singular value (MathNet returns them so; this makes it a guarantee).</summary>
    private static Spectrum Sorted(Matrix<double> u, double[] s, Matrix<double> v, bool complete)
    {
        var order = Enumerable.Range(0, s.Length).OrderByDescending(i => s[i]).ThenBy(i => i).ToArray();
        if (order.SequenceEqual(Enumerable.Range(0, s.Length))) return new Spectrum(u, s, v, complete);
        return new Spectrum(
            Matrix<double>.Build.DenseOfColumnVectors(order.Select(u.Column)),
            [.. order.Select(i => s[i])],
            Matrix<double>.Build.DenseOfColumnVectors(order.Select(v.Column)),
            complete);
    }
}
