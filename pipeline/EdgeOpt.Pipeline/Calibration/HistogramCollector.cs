using System.Buffers;
using System.Numerics;
using EdgeOpt.Passes.Quantization;

namespace EdgeOpt.Pipeline.Calibration;

/// <summary>
/// A fixed-size histogram of a tensor's values on a power-of-two lattice, for the percentile, entropy and mse methods.
/// </summary>
/// <remarks>
/// <para>Bins are cells of the lattice <c>[g·2^e, (g+1)·2^e)</c> for integer <c>g</c>, so zero is always a bin edge and
/// folding the histogram onto |x| is exact. The histogram always covers [min(Min, 0), max(Max, 0)]; <c>e</c> is the
/// smallest exponent for which that span fits in <see cref="BinCount"/> bins. When new values fall outside, <c>e</c> grows
/// and pairs of cells merge exactly (cell g becomes cell ⌊g/2⌋), so memory stays at <see cref="BinCount"/> counters
/// however many samples arrive.</para>
/// <para>Because the lattice depends only on the overall range, the counts are a function of the multiset of values
/// alone: the same values in any order or batching, or split over collectors and <see cref="Merge"/>d, give the same
/// histogram (for normal floats; subnormal negatives may land in the zero cell on the fast path). The price is
/// resolution: the data span uses between half and all of the bins.</para>
/// </remarks>
public sealed class HistogramCollector : RangeCollector
{
    /// <summary>The default bin count (TensorRT's for entropy, ONNX Runtime's for percentile).</summary>
    public const int DefaultBins = 2048;

    /// <summary>The fewest bins accepted.</summary>
    public const int MinBins = 16;

    /// <summary>The most bins accepted (8 MiB of counters per tensor).</summary>
    public const int MaxBins = 1 << 20;

    private const int Chunk = 1024;

    /// <summary>Asymmetric 8-bit quantization has 255 steps (uint8 0..255).</summary>
    private const int AsymmetricSteps = 255;

    /// <summary>Symmetric 8-bit quantization has 127 steps a side (int8 −127..127).</summary>
    private const int SymmetricSteps = 127;

    /// <summary>The largest grid of (low, high) pairs the asymmetric mse search evaluates one by one.</summary>
    private const int MseSideCandidates = 1024;

    private readonly long[] _counts;
    private int _exponent;
    private long _first;
    private bool _hasLattice;
    private long _pendingZeros;
    private long _exactZeros;

    public HistogramCollector(int bins = DefaultBins)
    {
        if (bins is < MinBins or > MaxBins) throw new ArgumentOutOfRangeException(nameof(bins), bins, $"bins must be between {MinBins} and {MaxBins}");
        _counts = new long[bins];
    }

    /// <summary>Number of bins (fixed at construction: the collector's memory).</summary>
    public int BinCount => _counts.Length;

    /// <summary>Counts per bin; bin <c>i</c> covers [<see cref="BinLowerEdge"/>(i), <see cref="BinLowerEdge"/>(i + 1)).</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>The width of every bin (a power of two); 0 while every value seen was zero.</summary>
    public double BinWidth => _hasLattice ? Math.ScaleB(1.0, _exponent) : 0;

    /// <summary>Values that were exactly ±0 (they sit in the bin starting at 0).</summary>
    public long ExactZeros => _exactZeros;

    /// <summary>The lower edge of bin <paramref name="index"/>.</summary>
    public double BinLowerEdge(int index) => _hasLattice ? Edge(_first + index) : 0;

    /// <summary>The range for <paramref name="options"/>' method; null when no finite value was seen.</summary>
    public override TensorRange? Range(CalibrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Count == 0) return null;
        return options.Method switch
        {
            CalibrationMethod.MinMax => new TensorRange(Min, Max),
            CalibrationMethod.Percentile => Percentile(options.Percentile, options.Symmetric),
            CalibrationMethod.Entropy => Entropy(options.QuantizedLevels),
            CalibrationMethod.Mse => Mse(options.Symmetric),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Method, "unknown calibration method"),
        };
    }

    /// <summary>
    /// Keeps <paramref name="percentile"/> % of the values: asymmetric cuts (100 − p)/2 % off each tail; symmetric takes the
    /// p-th percentile of |x| as the threshold t and returns [−t, t]. Bounds are bin edges, clipped to [Min, Max].
    /// </summary>
    public TensorRange Percentile(double percentile, bool symmetric = false)
    {
        if (!(percentile > 0 && percentile <= 100)) throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "percentile must be in (0, 100]");
        RequireValues();
        if (!_hasLattice) return new TensorRange(0, 0);
        if (symmetric)
        {
            var abs = AbsoluteCounts(out var length);
            var keep = percentile / 100 * Count;
            long cumulative = 0;
            var j = 0;
            for (; j < length - 1; j++)
            {
                cumulative += abs[j];
                if (cumulative >= keep) break;
            }
            return Symmetric(Edge(j + 1));
        }
        var tail = (100 - percentile) / 200 * Count;
        int low = 0, high = _counts.Length - 1;
        for (long c = 0; low < _counts.Length - 1; low++)
        {
            c += _counts[low];
            if (c > tail) break;
        }
        for (long c = 0; high > 0; high--)
        {
            c += _counts[high];
            if (c > tail) break;
        }
        return Clip(Edge(_first + low), Edge(_first + high + 1));
    }

    /// <summary>
    /// TensorRT's entropy calibration on the |x| histogram: for each threshold bin i ≥ <paramref name="levels"/>, the
    /// distribution P (bins below i, with everything above folded into the last) is compared with Q (the bins below i
    /// merged into <paramref name="levels"/> levels and spread back over P's non-empty bins); the threshold with the
    /// least KL(P‖Q) wins. Returns [−t, t] clipped to [Min, Max]. Exact zeros are left out: any range holding 0 represents
    /// them exactly, and merging bins would otherwise smear the zero spike of ReLU outputs and favour clipping.
    /// </summary>
    public TensorRange Entropy(int levels = 128)
    {
        if (levels < 2) throw new ArgumentOutOfRangeException(nameof(levels), levels, "levels must be at least 2");
        RequireValues();
        if (!_hasLattice) return new TensorRange(0, 0);
        var abs = AbsoluteCounts(out var length);
        abs[0] -= _exactZeros;
        if (length <= levels || abs.AsSpan(0, length).IndexOfAnyExcept(0L) < 0) return Symmetric(double.PositiveInfinity);
        var sum = new double[length + 1];
        var plogp = new double[length + 1];
        var nonzero = new int[length + 1];
        for (var k = 0; k < length; k++)
        {
            sum[k + 1] = sum[k] + abs[k];
            plogp[k + 1] = plogp[k] + XLogX(abs[k]);
            nonzero[k + 1] = nonzero[k] + (abs[k] > 0 ? 1 : 0);
        }
        var best = length;
        var bestDivergence = double.PositiveInfinity;
        for (var i = levels; i <= length; i++)
        {
            var divergence = Divergence(abs, sum, plogp, nonzero, i, levels);
            if (divergence < bestDivergence)
            {
                bestDivergence = divergence;
                best = i;
            }
        }
        return Symmetric(Edge(best));
    }

    /// <summary>
    /// The 8-bit range with the least expected squared quantization error over the histogram: values inside a range of
    /// step s cost s²/12 each, values outside cost their squared distance to the nearer bound. Asymmetric searches every
    /// (low ≤ 0 ≤ high) pair of bin edges with 255 steps between them; symmetric searches thresholds t with 127 steps a
    /// side. Exact zeros cost nothing (0 is always representable). Returns the range clipped to [Min, Max].
    /// </summary>
    public TensorRange Mse(bool symmetric = false)
    {
        RequireValues();
        if (!_hasLattice) return new TensorRange(0, 0);
        return symmetric ? SymmetricMse() : AsymmetricMse();
    }

    /// <summary>Folds another histogram with the same bin count into this one; the result is what one collector fed both would hold.</summary>
    /// <exception cref="ArgumentException">The bin counts differ.</exception>
    public void Merge(HistogramCollector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.BinCount != BinCount) throw new ArgumentException($"cannot merge a {other.BinCount}-bin histogram into a {BinCount}-bin one");
        if (ReferenceEquals(other, this)) throw new ArgumentException("cannot merge a histogram into itself");
        MergeStatistics(other);
        _exactZeros += other._exactZeros;
        if (!other._hasLattice)
        {
            AddZeros(other._pendingZeros);
            return;
        }
        if (!_hasLattice) InitializeLattice(other._exponent);
        else Cover(other._exponent);
        var shift = _exponent - other._exponent;
        for (var i = 0; i < other._counts.Length; i++)
        {
            if (other._counts[i] != 0) _counts[((other._first + i) >> shift) - _first] += other._counts[i];
        }
        AddZeros(other._pendingZeros);
    }

    protected override void OnValues(ReadOnlySpan<float> values, float min, float max)
    {
        if (!_hasLattice)
        {
            if (Min == 0 && Max == 0)
            {
                _pendingZeros += values.Length;
                _exactZeros += values.Length;
                return;
            }
            InitializeLattice(int.MinValue);
        }
        else
        {
            Cover(_exponent);
        }
        Bin(values);
    }

    /// <summary>
    /// Counts each value in its lattice cell. Fast path (bin width 2^-100 … 2^20): cell indices are computed a vector at
    /// a time (x·2^-e is exact in float, so ⌊x·2^-e⌋ is the same cell the double path finds), and large batches count into
    /// four interleaved scratch histograms so runs of equal cells (the zeros of a ReLU output) do not serialize on one
    /// counter; the scratch is pooled, so the collector's own memory stays <see cref="BinCount"/> counters.
    /// </summary>
    private void Bin(ReadOnlySpan<float> values)
    {
        var counts = _counts.AsSpan();
        var first = (int)_first;
        if (_exponent is < -100 or > 20)
        {
            foreach (var v in values) counts[(int)(GlobalIndex(v, _exponent) - first)]++;
            _exactZeros += CountZeros(values);
            return;
        }
        var scale = MathF.ScaleB(1f, -_exponent);
        Span<int> cells = stackalloc int[Chunk];
        if (values.Length < 4 * counts.Length)
        {
            for (var start = 0; start < values.Length; start += Chunk)
            {
                var chunk = values.Slice(start, Math.Min(Chunk, values.Length - start));
                _exactZeros += Cells(chunk, scale, first, cells);
                foreach (var g in cells[..chunk.Length]) counts[g]++;
            }
            return;
        }
        var b = counts.Length;
        var scratch = ArrayPool<int>.Shared.Rent(4 * b);
        try
        {
            Array.Clear(scratch, 0, 4 * b);
            for (var start = 0; start < values.Length; start += Chunk)
            {
                var chunk = values.Slice(start, Math.Min(Chunk, values.Length - start));
                _exactZeros += Cells(chunk, scale, first, cells);
                Count4(cells[..chunk.Length], scratch, b);
            }
            for (var j = 0; j < b; j++) counts[j] += (long)scratch[j] + scratch[b + j] + scratch[2 * b + j] + scratch[3 * b + j];
        }
        finally
        {
            ArrayPool<int>.Shared.Return(scratch);
        }
    }

    /// <summary>Window-relative cells ⌊x·scale⌋ − first of a chunk; returns how many values were exactly zero.</summary>
    private static int Cells(ReadOnlySpan<float> chunk, float scale, int first, Span<int> cells)
    {
        var zeros = Vector<int>.Zero;
        var scaleV = new Vector<float>(scale);
        var firstV = new Vector<int>(first);
        var i = 0;
        for (; i <= chunk.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(chunk.Slice(i, Vector<float>.Count));
            zeros -= Vector.Equals(v, Vector<float>.Zero);
            (Vector.ConvertToInt32(Vector.Floor(v * scaleV)) - firstV).CopyTo(cells.Slice(i, Vector<float>.Count));
        }
        var count = Vector.Sum(zeros);
        for (; i < chunk.Length; i++)
        {
            if (chunk[i] == 0) count++;
            cells[i] = (int)MathF.Floor(chunk[i] * scale) - first;
        }
        return count;
    }

    private static void Count4(ReadOnlySpan<int> cells, int[] scratch, int bins)
    {
        var s0 = scratch.AsSpan(0, bins);
        var s1 = scratch.AsSpan(bins, bins);
        var s2 = scratch.AsSpan(2 * bins, bins);
        var s3 = scratch.AsSpan(3 * bins, bins);
        var k = 0;
        for (; k <= cells.Length - 4; k += 4)
        {
            s0[cells[k]]++;
            s1[cells[k + 1]]++;
            s2[cells[k + 2]]++;
            s3[cells[k + 3]]++;
        }
        for (; k < cells.Length; k++) s0[cells[k]]++;
    }

    /// <summary>Sets the lattice for [min(Min,0), max(Max,0)] at the smallest exponent ≥ <paramref name="atLeast"/> and places pending zeros.</summary>
    private void InitializeLattice(int atLeast)
    {
        var (low, high) = Span();
        _exponent = Math.Max(atLeast, SmallestExponent(low, high));
        _first = GlobalIndex(low, _exponent);
        _hasLattice = true;
        AddZeros(_pendingZeros);
        _pendingZeros = 0;
    }

    /// <summary>Grows the exponent (to at least <paramref name="atLeast"/>) and moves the window until it covers the span.</summary>
    private void Cover(int atLeast)
    {
        var (low, high) = Span();
        var exponent = Math.Max(atLeast, _exponent);
        if (exponent == _exponent && GlobalIndex(low, exponent) >= _first && GlobalIndex(high, exponent) < _first + _counts.Length) return;
        exponent = Math.Max(exponent, SmallestExponent(low, high));
        var first = GlobalIndex(low, exponent);
        var shift = exponent - _exponent;
        var old = ArrayPool<long>.Shared.Rent(_counts.Length);
        try
        {
            _counts.CopyTo(old, 0);
            Array.Clear(_counts);
            for (var i = 0; i < _counts.Length; i++)
            {
                if (old[i] != 0) _counts[((_first + i) >> shift) - first] += old[i];
            }
        }
        finally
        {
            ArrayPool<long>.Shared.Return(old);
        }
        _exponent = exponent;
        _first = first;
    }

    private void AddZeros(long zeros)
    {
        if (zeros == 0) return;
        if (_hasLattice) _counts[-_first] += zeros;
        else _pendingZeros += zeros;
    }

    private (double Low, double High) Span() => (Math.Min(Min, 0.0), Math.Max(Max, 0.0));

    private bool Fits(double low, double high, int exponent) => GlobalIndex(high, exponent) - GlobalIndex(low, exponent) < _counts.Length;

    private int SmallestExponent(double low, double high)
    {
        var exponent = Math.ILogB((high - low) / _counts.Length) - 1;
        while (!Fits(low, high, exponent)) exponent++;
        return exponent;
    }

    private static int CountZeros(ReadOnlySpan<float> values)
    {
        var count = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var found = Vector<int>.Zero;
            for (; i <= values.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                found -= Vector.Equals(new Vector<float>(values.Slice(i, Vector<float>.Count)), Vector<float>.Zero);
            }
            count = Vector.Sum(found);
        }
        for (; i < values.Length; i++)
        {
            if (values[i] == 0) count++;
        }
        return count;
    }

    private static long GlobalIndex(double value, int exponent) => (long)Math.Floor(Math.ScaleB(value, -exponent));

    private double Edge(long globalIndex) => Math.ScaleB((double)globalIndex, _exponent);

    private void RequireValues()
    {
        if (Count == 0) throw new InvalidOperationException("the histogram holds no finite values yet");
    }

    /// <summary>Counts of |x| per lattice cell: cell j ≥ 0 covers [j·w, (j+1)·w]; <paramref name="length"/> is one past the last non-empty cell.</summary>
    private long[] AbsoluteCounts(out int length)
    {
        var abs = new long[_counts.Length + 1];
        length = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] == 0) continue;
            var g = _first + i;
            var j = (int)(g >= 0 ? g : -g - 1);
            abs[j] += _counts[i];
            length = Math.Max(length, j + 1);
        }
        return abs;
    }

    /// <summary>[−t, t] with t at most the largest |value| seen, clipped to [Min, Max].</summary>
    private TensorRange Symmetric(double threshold)
    {
        var t = Math.Min(threshold, Math.Max(-(double)Min, Max));
        return Clip(-t, t);
    }

    private TensorRange Clip(double low, double high) => new((float)Math.Max(low, Min), (float)Math.Min(high, Max));

    /// <summary>
    /// KL(P‖Q) for threshold bin <paramref name="i"/>, from prefix sums, in O(levels): within a merged level Q is constant,
    /// so Σ p·ln q = ln q · Σ p. A level whose bins held nothing below the threshold but P is non-zero there (the outliers
    /// folded into the last bin) gets a tiny q, as TensorRT's smoothing does.
    /// </summary>
    private static double Divergence(long[] abs, double[] sum, double[] plogp, int[] nonzero, int i, int levels)
    {
        const double epsilon = 1e-4;
        var total = sum[^1];
        var outliers = total - sum[i];
        var last = abs[i - 1] + outliers;
        var merged = i / levels;
        double plnp = 0, plnq = 0, qTotal = 0;
        for (var j = 0; j < levels; j++)
        {
            var start = j * merged;
            var end = j == levels - 1 ? i : start + merged;
            var sliced = sum[end] - sum[start];
            var count = nonzero[end] - nonzero[start];
            var p = sliced;
            var pLogP = plogp[end] - plogp[start];
            if (end == i && outliers > 0)
            {
                if (abs[i - 1] == 0) count++;
                p += outliers;
                pLogP += XLogX(last) - XLogX(abs[i - 1]);
            }
            if (count == 0) continue;
            var q = sliced > 0 ? sliced / count : epsilon;
            qTotal += q * count;
            plnp += pLogP;
            plnq += p * Math.Log(q);
        }
        return (plnp - plnq) / total - Math.Log(total) + Math.Log(qTotal);
    }

    private static double XLogX(double x) => x > 0 ? x * Math.Log(x) : 0;

    private TensorRange SymmetricMse()
    {
        var abs = AbsoluteCounts(out var length);
        abs[0] -= _exactZeros;
        var w = BinWidth;
        var (n, s1, s2) = Moments(abs.AsSpan(0, length), 0, w);
        var bestError = double.PositiveInfinity;
        var best = length;
        for (var k = 1; k <= length; k++)
        {
            var t = k * w;
            var step = t / SymmetricSteps;
            var error = n[k] * step * step / 12 + Outside(n, s1, s2, k, length, t, w);
            if (error < bestError)
            {
                bestError = error;
                best = k;
            }
        }
        return Symmetric(Edge(best));
    }

    private TensorRange AsymmetricMse()
    {
        var w = BinWidth;
        var zero = (int)-_first;
        var counts = _counts.ToArray();
        counts[zero] -= _exactZeros;
        if (counts.AsSpan().IndexOfAnyExcept(0L) < 0) return new TensorRange(Min, Max);
        var (n, s1, s2) = Moments(counts, _first, w);
        int lowest = 0, highest = counts.Length - 1;
        while (counts[lowest] == 0) lowest++;
        while (counts[highest] == 0) highest--;
        var lows = Candidates(Math.Min(lowest, zero), zero);
        var highs = Candidates(zero, Math.Max(zero, highest + 1));
        var bestError = double.PositiveInfinity;
        (int Low, int High) best = (lowest, highest + 1);
        foreach (var lo in lows)
        {
            var a = Edge(_first + lo);
            var below = Outside(n, s1, s2, 0, lo, a, w);
            foreach (var hi in highs)
            {
                if (hi <= lo) continue;
                var b = Edge(_first + hi);
                var step = (b - a) / AsymmetricSteps;
                var error = (n[hi] - n[lo]) * step * step / 12 + below + Outside(n, s1, s2, hi, counts.Length, b, w);
                if (error < bestError)
                {
                    bestError = error;
                    best = (lo, hi);
                }
            }
        }
        return Clip(Edge(_first + best.Low), Edge(_first + best.High));
    }

    /// <summary>Bin edges from <paramref name="from"/> to <paramref name="to"/> inclusive, thinned to at most <see cref="MseSideCandidates"/>.</summary>
    private static List<int> Candidates(int from, int to)
    {
        var stride = Math.Max(1, (to - from + MseSideCandidates) / MseSideCandidates);
        var result = new List<int>();
        for (var k = from; k <= to; k += stride) result.Add(k);
        if (result[^1] != to) result.Add(to);
        return result;
    }

    /// <summary>Prefix sums of count, count·center and count·center² over the bins (bin k's center is (origin + k + ½)·w).</summary>
    private static (double[] N, double[] S1, double[] S2) Moments(ReadOnlySpan<long> counts, long origin, double w)
    {
        var n = new double[counts.Length + 1];
        var s1 = new double[counts.Length + 1];
        var s2 = new double[counts.Length + 1];
        for (var k = 0; k < counts.Length; k++)
        {
            var c = (origin + k + 0.5) * w;
            n[k + 1] = n[k] + counts[k];
            s1[k + 1] = s1[k] + counts[k] * c;
            s2[k + 1] = s2[k] + counts[k] * c * c;
        }
        return (n, s1, s2);
    }

    /// <summary>Σ count·((center − bound)² + w²/12) over bins [from, to): the squared error of clipping them to <paramref name="bound"/>.</summary>
    private static double Outside(double[] n, double[] s1, double[] s2, int from, int to, double bound, double w)
    {
        if (to <= from) return 0;
        var count = n[to] - n[from];
        if (count == 0) return 0;
        var first = s1[to] - s1[from];
        var second = s2[to] - s2[from];
        return Math.Max(0, second - 2 * bound * first + bound * bound * count) + count * w * w / 12;
    }
}
