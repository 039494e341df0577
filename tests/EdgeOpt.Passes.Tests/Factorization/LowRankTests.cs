using EdgeOpt.Passes.Factorization;
using MathNet.Numerics.LinearAlgebra;
using static EdgeOpt.Passes.Tests.Factorization.FactorModels;

namespace EdgeOpt.Passes.Tests.Factorization;

/// <summary>The dense and randomized truncated SVDs behind the factorization passes.</summary>
public class LowRankTests
{
    private static Matrix<double> RankMatrix(int rows, int cols, int rank, int seed)
    {
        var w = LowRankMatrix(rows, cols, rank, seed);
        return Matrix<double>.Build.Dense(rows, cols, (i, j) => w[i * cols + j]);
    }

    [TestCase(30, 70)]
    [TestCase(70, 30)]
    [TestCase(40, 40)]
    public void Dense_ReconstructsAndIsOrthonormal(int rows, int cols)
    {
        var a = RankMatrix(rows, cols, Math.Min(rows, cols), 3);

        var s = LowRank.Dense(a);

        var rebuilt = s.U.Multiply(Matrix<double>.Build.DiagonalOfDiagonalArray(s.S)).TransposeAndMultiply(s.V);
        Assert.That((a - rebuilt).FrobeniusNorm() / a.FrobeniusNorm(), Is.LessThan(1e-12));
        Assert.That((s.U.TransposeThisAndMultiply(s.U) - Matrix<double>.Build.DenseIdentity(s.S.Length)).FrobeniusNorm(), Is.LessThan(1e-10));
        Assert.That(s.S, Is.Ordered.Descending);
        Assert.That(s.Complete, Is.True);
    }

    [Test]
    public void Randomized_FindsAnExactLowRankMatrix()
    {
        var a = RankMatrix(300, 200, 12, 5);

        var s = LowRank.Randomized(a, 12, 8, 2, seed: 11);
        var (left, right) = s.Split(12);

        // The float rounding of the test matrix is the only part beyond rank 12 (about 6e-8 relative).
        Assert.That((a - left.Multiply(right)).FrobeniusNorm() / a.FrobeniusNorm(), Is.LessThan(1e-6));
        Assert.That(s.Complete, Is.False);
    }

    [Test]
    public void Randomized_SameSeedSameBits_OtherSeedOtherBits()
    {
        var a = RankMatrix(260, 180, 180, 9);

        var first = LowRank.Randomized(a, 20, 10, 2, seed: 42);
        var second = LowRank.Randomized(a, 20, 10, 2, seed: 42);
        var other = LowRank.Randomized(a, 20, 10, 2, seed: 43);

        Assert.That(Bits(second.S), Is.EqualTo(Bits(first.S)));
        Assert.That(Bits(second.U.ToColumnMajorArray()), Is.EqualTo(Bits(first.U.ToColumnMajorArray())));
        Assert.That(Bits(second.V.ToColumnMajorArray()), Is.EqualTo(Bits(first.V.ToColumnMajorArray())));
        Assert.That(Bits(other.S), Is.Not.EqualTo(Bits(first.S)));
    }

    [Test]
    public void Randomized_LeadingValuesCloseToDense()
    {
        var a = RankMatrix(240, 160, 160, 13);
        var dense = LowRank.Dense(a);

        var sketch = LowRank.Randomized(a, 16, 10, 2, seed: 1);

        // A uniform random matrix has a flat spectrum, the hard case for a sketch: two power iterations get within 1%.
        for (var i = 0; i < 4; i++) Assert.That(sketch.S[i], Is.EqualTo(dense.S[i]).Within(1).Percent, $"σ{i}");
    }

    private static long[] Bits(double[] values) => Array.ConvertAll(values, BitConverter.DoubleToInt64Bits);
}
