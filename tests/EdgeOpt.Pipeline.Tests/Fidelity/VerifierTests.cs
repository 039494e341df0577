using EdgeOpt.Onnx.Ir;
using EdgeOpt.Pipeline.Data;
using EdgeOpt.Pipeline.Fidelity;

namespace EdgeOpt.Pipeline.Tests.Fidelity;

public class VerifierTests
{
    private static readonly Sample One = new("s0", new Dictionary<string, Tensor>(), new Dictionary<string, Tensor>
    {
        ["y"] = Tensor.Create("y", [1, 3], new[] { 0.1f, 0.7f, 0.2f }),
    });

    private static IReadOnlyDictionary<string, Tensor> Out(params float[] v) =>
        new Dictionary<string, Tensor> { ["y"] = Tensor.Create("y", [1, v.Length], v) };

    [Test]
    public void SameModel_PerfectAndPasses()
    {
        var report = Verifier.Compare([One], _ => Out(0.1f, 0.7f, 0.2f), _ => Out(0.1f, 0.7f, 0.2f), new FidelityBounds(0.999, 1));

        Assert.That(report.Passed, Is.True);
        Assert.That(report.MinCosine, Is.EqualTo(1).Within(1e-12));
        Assert.That(report.MaxAbsError, Is.Zero);
        Assert.That(report.Outputs[0].VersusStored!.MaxAbsError, Is.Zero, "also compared with the stored output_0.pb");
    }

    [Test]
    public void Top1Flip_ViolatesBound()
    {
        var report = Verifier.Compare([One], _ => Out(0.1f, 0.7f, 0.2f), _ => Out(0.8f, 0.1f, 0.1f), new FidelityBounds(MinTop1: 0.99));

        Assert.That(report.Passed, Is.False);
        Assert.That(report.Violations.Single(), Does.Contain("top-1"));
    }

    [Test]
    public void MissingOutput_ClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => Verifier.Compare([One], _ => Out(1f), _ => new Dictionary<string, Tensor> { ["z"] = Tensor.Create("z", [1], new[] { 1f }) }))!;
        Assert.That(e.Message, Does.Contain("no output 'y'").And.Contain("'z'"));
    }
}
