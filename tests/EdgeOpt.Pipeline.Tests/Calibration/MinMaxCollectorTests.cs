using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Quantization;
using EdgeOpt.Pipeline.Calibration;
using static EdgeOpt.Pipeline.Tests.Calibration.CalibrationTestKit;

namespace EdgeOpt.Pipeline.Tests.Calibration;

public class MinMaxCollectorTests
{
    [Test]
    public void RunningExtremes_OverBatches()
    {
        var c = new MinMaxCollector();

        c.Add(Uniform(1000, -1, 1, seed: 1));
        c.Add([5f, -0.5f]);
        c.Add(Array.Empty<float>());

        Assert.That(c.Range(new CalibrationOptions()), Is.EqualTo(new TensorRange(c.Min, 5f)));
        Assert.That(c.Min, Is.GreaterThanOrEqualTo(-1f));
        Assert.That(c.Count, Is.EqualTo(1002));
    }

    [Test]
    public void Float16AndDoubleTensors_Converted()
    {
        var c = new MinMaxCollector();

        c.Add(Tensor.Create("h", [2], new[] { (Half)(-2.5f), (Half)1f }));
        c.Add(Tensor.Create("d", [2], new[] { 0.25, 3.0 }));

        Assert.That((c.Min, c.Max), Is.EqualTo((-2.5f, 3f)));
    }

    [Test]
    public void IntegerTensor_ClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => new MinMaxCollector().Add(Tensor.Create("ids", [2], new long[] { 1, 2 })))!;
        Assert.That(e.Message, Does.Contain("'ids'").And.Contain("int64"));
    }

    [Test]
    public void NonFinite_LeftOutOfTheRange()
    {
        var c = new MinMaxCollector();
        var values = Uniform(5000, -1, 1, seed: 2);
        values[17] = float.NaN;
        values[4000] = float.PositiveInfinity;

        c.Add(values);

        Assert.That(c.NonFinite, Is.EqualTo(2));
        Assert.That(c.Count, Is.EqualTo(4998));
        Assert.That(float.IsFinite(c.Max) && c.Max <= 1, Is.True);
    }

    [Test]
    public void Merge_SameAsOneCollector()
    {
        var a = new MinMaxCollector();
        var b = new MinMaxCollector();
        a.Add([1f, 2f]);
        b.Add([-3f, 0.5f]);

        a.Merge(b);

        Assert.That((a.Min, a.Max, a.Count), Is.EqualTo((-3f, 2f, 4L)));
    }

    [Test]
    public void HistogramMethod_Refused()
    {
        var c = new MinMaxCollector();
        c.Add([1f]);

        var e = Assert.Throws<InvalidOperationException>(() => c.Range(new CalibrationOptions { Method = CalibrationMethod.Entropy }))!;
        Assert.That(e.Message, Does.Contain("entropy").And.Contain("histograms"));
    }

    [Test]
    public void Nothing_NoRange() => Assert.That(new MinMaxCollector().Range(new CalibrationOptions()), Is.Null);
}
