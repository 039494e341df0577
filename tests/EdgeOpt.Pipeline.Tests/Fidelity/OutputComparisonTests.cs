using EdgeOpt.Pipeline.Fidelity;

namespace EdgeOpt.Pipeline.Tests.Fidelity;

public class OutputComparisonTests
{
    [Test]
    public void IdenticalOutputs_PerfectScores()
    {
        var c = new OutputComparison("y");
        float[] v = [0.1f, 2f, -3f, 0.5f];
        c.Add(v, v, [2, 2]);

        var m = c.Result();

        Assert.That(m.Cosine, Is.EqualTo(1).Within(1e-12));
        Assert.That(m.SqnrDb, Is.EqualTo(double.PositiveInfinity));
        Assert.That(m.MaxAbsError, Is.Zero);
        Assert.That(m.RelativeL2Error, Is.Zero);
        Assert.That(m.Top1Agreement, Is.EqualTo(1));
    }

    [Test]
    public void KnownNoise_SqnrAndErrorsMatchHandComputation()
    {
        var c = new OutputComparison("y");
        // reference energy 9 + 16 = 25, error energy 0.25: SQNR = 10·log10(100) = 20 dB; rel L2 = 0.5 / 5.
        c.Add([3f, 4f], [3.5f, 4f], [2]);

        var m = c.Result();

        Assert.That(m.SqnrDb, Is.EqualTo(20).Within(1e-9));
        Assert.That(m.RelativeL2Error, Is.EqualTo(0.1).Within(1e-9));
        Assert.That(m.MaxAbsError, Is.EqualTo(0.5).Within(1e-9));
        Assert.That(m.Cosine, Is.EqualTo((3 * 3.5 + 16) / (5 * Math.Sqrt(3.5 * 3.5 + 16))).Within(1e-9));
    }

    [Test]
    public void Top1_CountsRowsAlongLastAxis()
    {
        var c = new OutputComparison("scores");
        c.Add([0.9f, 0.1f, 0.2f, 0.8f], [0.6f, 0.4f, 0.9f, 0.1f], [2, 2]);
        Assert.That(c.Result().Top1Agreement, Is.EqualTo(0.5));
    }

    [Test]
    public void SingleValueOutputs_NoTop1()
    {
        var c = new OutputComparison("prob");
        c.Add([0.3f], [0.4f], [1, 1]);
        Assert.That(c.Result().Top1Agreement, Is.Null);
    }

    [Test]
    public void Threshold_AgreementOfBinaryDecisions()
    {
        var c = new OutputComparison("mask", threshold: 0.5);
        c.Add([0.1f, 0.6f, 0.7f, 0.4f], [0.2f, 0.4f, 0.9f, 0.3f], [4]);
        Assert.That(c.Result().ThresholdAgreement, Is.EqualTo(0.75));
    }

    [Test]
    public void NaNInCandidate_CountedNotHidden()
    {
        var c = new OutputComparison("y");
        c.Add([1f, 2f], [1f, float.NaN], [2]);
        Assert.That(c.Result().NonFinite, Is.EqualTo(1));
    }

    [Test]
    public void DifferentLengths_ClearError()
    {
        var c = new OutputComparison("y");
        var e = Assert.Throws<ArgumentException>(() => c.Add([1f, 2f], [1f], [2]))!;
        Assert.That(e.Message, Does.Contain("differ in shape"));
    }
}
