namespace EdgeOpt.Pipeline.Fidelity;

/// <summary>How closely a candidate output follows a reference output, over one or more samples.</summary>
public sealed record OutputMetrics
{
    public required string Output { get; init; }
    public required long Elements { get; init; }

    /// <summary>cos∠(reference, candidate) over all elements; 1 when both are zero.</summary>
    public required double Cosine { get; init; }

    /// <summary>Signal-to-quantization-noise ratio, 10·log10(‖ref‖² / ‖ref − cand‖²) dB; +∞ when identical.</summary>
    public required double SqnrDb { get; init; }
    public required double MaxAbsError { get; init; }

    /// <summary>‖ref − cand‖₂ / ‖ref‖₂ (0 when identical; the absolute L2 error when the reference is zero).</summary>
    public required double RelativeL2Error { get; init; }

    /// <summary>Share of rows whose arg-max along the last axis agrees, or null when the output does not look like class scores.</summary>
    public double? Top1Agreement { get; init; }

    /// <summary>Share of elements on the same side of the threshold, when one was given.</summary>
    public double? ThresholdAgreement { get; init; }

    /// <summary>Elements that are NaN or infinite in the candidate but finite in the reference.</summary>
    public long NonFinite { get; init; }
}

/// <summary>
/// Accumulates reference/candidate pairs of one output across samples and reports <see cref="OutputMetrics"/>.
/// Sums are kept in double so long outputs do not lose precision.
/// </summary>
public sealed class OutputComparison(string output, double? threshold = null)
{
    private double _dot, _refSq, _candSq, _errSq, _maxAbs;
    private long _elements, _rows, _top1Agree, _thresholdAgree, _nonFinite;
    private bool _scores = true;

    public string Output { get; } = output;

    /// <summary>Adds one sample: the two outputs with their shape (the last axis is the class axis for top-1).</summary>
    public void Add(ReadOnlySpan<float> reference, ReadOnlySpan<float> candidate, IReadOnlyList<long> shape)
    {
        if (reference.Length != candidate.Length)
        {
            throw new ArgumentException($"output '{Output}': the reference has {reference.Length} elements, the candidate {candidate.Length}; the models' outputs differ in shape");
        }
        for (var i = 0; i < reference.Length; i++)
        {
            double r = reference[i], c = candidate[i];
            if (!double.IsFinite(c))
            {
                if (double.IsFinite(r)) _nonFinite++;
                continue;
            }
            _dot += r * c;
            _refSq += r * r;
            _candSq += c * c;
            var e = Math.Abs(r - c);
            _errSq += e * e;
            if (e > _maxAbs) _maxAbs = e;
            if (threshold is { } t && (r > t) == (c > t)) _thresholdAgree++;
        }
        _elements += reference.Length;
        AddTop1(reference, candidate, shape);
    }

    private void AddTop1(ReadOnlySpan<float> reference, ReadOnlySpan<float> candidate, IReadOnlyList<long> shape)
    {
        var classes = shape.Count == 0 ? 0 : shape[^1];
        if (classes < 2 || reference.Length % classes != 0) { _scores = false; return; }
        for (var start = 0; start < reference.Length; start += (int)classes)
        {
            if (ArgMax(reference.Slice(start, (int)classes)) == ArgMax(candidate.Slice(start, (int)classes))) _top1Agree++;
            _rows++;
        }
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        var best = 0;
        for (var i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best]) best = i;
        }
        return best;
    }

    public OutputMetrics Result()
    {
        var refNorm = Math.Sqrt(_refSq);
        var candNorm = Math.Sqrt(_candSq);
        var cosine = refNorm == 0 && candNorm == 0 ? 1 : refNorm == 0 || candNorm == 0 ? 0 : _dot / (refNorm * candNorm);
        return new OutputMetrics
        {
            Output = Output,
            Elements = _elements,
            Cosine = Math.Clamp(cosine, -1, 1),
            SqnrDb = _errSq == 0 ? double.PositiveInfinity : _refSq == 0 ? double.NegativeInfinity : 10 * Math.Log10(_refSq / _errSq),
            MaxAbsError = _maxAbs,
            RelativeL2Error = _errSq == 0 ? 0 : refNorm == 0 ? Math.Sqrt(_errSq) : Math.Sqrt(_errSq) / refNorm,
            Top1Agreement = _scores && _rows > 0 ? _top1Agree / (double)_rows : null,
            ThresholdAgreement = threshold != null && _elements > 0 ? _thresholdAgree / (double)_elements : null,
            NonFinite = _nonFinite,
        };
    }
}
