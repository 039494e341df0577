using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;
using MathNet.Numerics.Random;
using Simd = System.Numerics.Vector<double>;
using SimdOps = System.Numerics.Vector;

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
        var (n, m) = (a.RowCount, a.ColumnCount);
        var sketch = Math.Min(Math.Min(n, m), rank + oversampling);
        var normal = new Normal(0, 1, new MersenneTwister(seed, threadSafe: false));
        var omega = Matrix<double>.Build.Random(m, sketch, normal);
        // A's rows (row-major) and columns (MathNet's column-major storage) as contiguous vectors: every product below is
        // then a block of SIMD dot products (MathNet's managed GEMM reaches about a third of that speed here).
        var rows = a.ToRowMajorArray();
        var columns = a.AsColumnMajorArray() ?? a.ToColumnMajorArray();
        var q = Orthonormal(Dots(rows, n, m, omega));
        for (var i = 0; i < powerIterations; i++)
        {
            var z = Orthonormal(Dots(columns, m, n, q));
            q = Orthonormal(Dots(rows, n, m, z));
        }
        // A ≈ Q·(QᵀA); the small l×m matrix B = QᵀA gets the dense SVD, through its tall transpose Bᵀ = AᵀQ = U'·S·V'ᵀ.
        var bt = DenseTall(Dots(columns, m, n, q));
        return new Spectrum(q.Multiply(bt.V), bt.S, bt.U, Complete: false);
    }

    /// <summary>
    /// C = R·B with R given as <paramref name="count"/> contiguous rows of length <paramref name="length"/> in <paramref name="rows"/>
    /// and B (length × l) a MathNet matrix: C[i, j] = ⟨R_i, B_j⟩, two rows by four columns of B per pass (register blocking).
    /// </summary>
    internal static Matrix<double> Dots(double[] rows, int count, int length, Matrix<double> b)
    {
        var l = b.ColumnCount;
        var cols = b.AsColumnMajorArray() ?? b.ToColumnMajorArray();
        var c = new double[(long)count * l];
        var i = 0;
        for (; i + 2 <= count; i += 2)
        {
            var r0 = new ReadOnlySpan<double>(rows, i * length, length);
            var r1 = new ReadOnlySpan<double>(rows, (i + 1) * length, length);
            var j = 0;
            for (; j + 4 <= l; j += 4)
            {
                var (first, second) = Dot2x4(r0, r1, cols.AsSpan(j * length, length), cols.AsSpan((j + 1) * length, length),
                    cols.AsSpan((j + 2) * length, length), cols.AsSpan((j + 3) * length, length));
                c[(long)j * count + i] = first.X;
                c[(long)(j + 1) * count + i] = first.Y;
                c[(long)(j + 2) * count + i] = first.Z;
                c[(long)(j + 3) * count + i] = first.W;
                c[(long)j * count + i + 1] = second.X;
                c[(long)(j + 1) * count + i + 1] = second.Y;
                c[(long)(j + 2) * count + i + 1] = second.Z;
                c[(long)(j + 3) * count + i + 1] = second.W;
            }
            for (; j < l; j++)
            {
                c[(long)j * count + i] = Dot(r0, cols.AsSpan(j * length, length));
                c[(long)j * count + i + 1] = Dot(r1, cols.AsSpan(j * length, length));
            }
        }
        for (; i < count; i++)
        {
            var r = new ReadOnlySpan<double>(rows, i * length, length);
            for (var j = 0; j < l; j++) c[(long)j * count + i] = Dot(r, cols.AsSpan(j * length, length));
        }
        return Matrix<double>.Build.Dense(count, l, c);
    }

    /// <summary>⟨r_a, b_k⟩ for two rows and four columns at once: each loaded vector serves two or four products.</summary>
    private static ((double X, double Y, double Z, double W), (double X, double Y, double Z, double W)) Dot2x4(ReadOnlySpan<double> r0, ReadOnlySpan<double> r1,
        ReadOnlySpan<double> b0, ReadOnlySpan<double> b1, ReadOnlySpan<double> b2, ReadOnlySpan<double> b3)
    {
        Simd s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        var t = 0;
        for (; t + Simd.Count <= r0.Length; t += Simd.Count)
        {
            var x0 = new Simd(r0[t..]);
            var x1 = new Simd(r1[t..]);
            var y = new Simd(b0[t..]);
            s00 += x0 * y;
            s10 += x1 * y;
            y = new Simd(b1[t..]);
            s01 += x0 * y;
            s11 += x1 * y;
            y = new Simd(b2[t..]);
            s02 += x0 * y;
            s12 += x1 * y;
            y = new Simd(b3[t..]);
            s03 += x0 * y;
            s13 += x1 * y;
        }
        double d00 = SimdOps.Sum(s00), d01 = SimdOps.Sum(s01), d02 = SimdOps.Sum(s02), d03 = SimdOps.Sum(s03);
        double d10 = SimdOps.Sum(s10), d11 = SimdOps.Sum(s11), d12 = SimdOps.Sum(s12), d13 = SimdOps.Sum(s13);
        for (; t < r0.Length; t++)
        {
            d00 += r0[t] * b0[t];
            d01 += r0[t] * b1[t];
            d02 += r0[t] * b2[t];
            d03 += r0[t] * b3[t];
            d10 += r1[t] * b0[t];
            d11 += r1[t] * b1[t];
            d12 += r1[t] * b2[t];
            d13 += r1[t] * b3[t];
        }
        return ((d00, d01, d02, d03), (d10, d11, d12, d13));
    }

    private static double Dot(ReadOnlySpan<double> r, ReadOnlySpan<double> b)
    {
        var width = Simd.Count;
        Simd s = default;
        var t = 0;
        for (; t + width <= r.Length; t += width) s += new Simd(r[t..]) * new Simd(b[t..]);
        var d = SimdOps.Sum(s);
        for (; t < r.Length; t++) d += r[t] * b[t];
        return d;
    }

    /// <summary>
    /// An orthonormal basis of the columns of <paramref name="y"/> (tall, n×l): <see cref="CholeskyQr"/>, or MathNet's
    /// Householder QR when that declines.
    /// </summary>
    private static Matrix<double> Orthonormal(Matrix<double> y) => CholeskyQr(y)?.Q ?? y.QR(QRMethod.Thin).Q;

    /// <summary>
    /// The complete thin SVD of a tall <paramref name="a"/> (at least twice as many rows as columns, else <see cref="Dense"/>):
    /// A = Q·R by <see cref="CholeskyQr"/>, then the SVD of the small R, as <see cref="Dense"/> does with Householder QR.
    /// </summary>
    private static Spectrum DenseTall(Matrix<double> a)
    {
        if (CholeskyQr(a) is not { } qr) return Dense(a);
        var svd = qr.R.Svd(computeVectors: true);
        return Sorted(qr.Q.Multiply(svd.U), svd.S.ToArray(), svd.VT.Transpose(), complete: true);
    }

    /// <summary>
    /// Thin QR of <paramref name="y"/> (tall, n×l) by CholeskyQR2 (Fukaya et al. 2014): L = chol(YᵀY), Q = Y·L⁻ᵀ, done twice
    /// (R = L₂ᵀ·L₁ᵀ); its work is two l×l Gram products (SIMD dots) and triangular solves, a fraction of MathNet's unblocked
    /// Householder QR on the sketch sizes of the randomized SVD (0.40 s → under 0.1 s on 3072×202). It is accurate while
    /// cond(Y) ≲ 10⁶ (each pass squares it); null, for a Householder fallback, when Y is not at least twice as tall as wide or a
    /// Cholesky pivot is under 10⁻⁶ of the largest (a sketch of a matrix whose rank is below the sketch width is near singular).
    /// </summary>
    private static (Matrix<double> Q, Matrix<double> R)? CholeskyQr(Matrix<double> y)
    {
        if (y.RowCount < 2 * y.ColumnCount) return null;
        var q = y;
        Matrix<double>? r = null;
        for (var pass = 0; pass < 2; pass++)
        {
            var gram = Dots(q.AsColumnMajorArray() ?? q.ToColumnMajorArray(), q.ColumnCount, q.RowCount, q);
            Matrix<double> lower;
            try
            {
                lower = gram.Cholesky().Factor;
            }
            catch (ArgumentException)
            {
                return null;
            }
            var diagonal = lower.Diagonal();
            if (!(diagonal.Minimum() > 1e-6 * diagonal.Maximum())) return null;
            // Q·Lᵀ = Y: Qᵀ = L⁻¹·Yᵀ by forward substitution.
            q = ForwardSolve(lower, q.Transpose()).Transpose();
            r = r == null ? lower.Transpose() : lower.TransposeThisAndMultiply(r);
        }
        return (q, r!);
    }

    /// <summary>x −= f·y, element-wise (SIMD).</summary>
    private static void SubtractScaled(Span<double> x, double f, ReadOnlySpan<double> y)
    {
        var scale = new Simd(f);
        var t = 0;
        for (; t + Simd.Count <= x.Length; t += Simd.Count) (new Simd(x[t..]) - scale * new Simd(y[t..])).CopyTo(x[t..]);
        for (; t < x.Length; t++) x[t] -= f * y[t];
    }

    /// <summary>X = L⁻¹·B for lower-triangular <paramref name="l"/> (l×l) and <paramref name="b"/> (l×n), row by row.</summary>
    private static Matrix<double> ForwardSolve(Matrix<double> l, Matrix<double> b)
    {
        var n = b.ColumnCount;
        var rows = l.RowCount;
        var x = b.ToRowArrays();
        var lower = l.ToRowArrays();
        for (var i = 0; i < rows; i++)
        {
            var xi = x[i].AsSpan();
            for (var k = 0; k < i; k++)
            {
                var f = lower[i][k];
                if (f != 0) SubtractScaled(xi, f, x[k]);
            }
            var d = lower[i][i];
            for (var j = 0; j < n; j++) xi[j] /= d;
        }
        return Matrix<double>.Build.DenseOfRowArrays(x);
    }

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
