using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Proto;
using EdgeOpt.TestKit;

namespace EdgeOpt.Onnx.Tests.IO;

/// <summary>Every model of the ONNX backend corpus loads into the IR and writes back equal to the original message.</summary>
public class CorpusRoundTripTests
{
    public static IEnumerable<TestCaseData> CorpusModels() => OnnxCorpus.Models().Select(m => new TestCaseData(m).SetArgDisplayNames(m));

    [TestCaseSource(nameof(CorpusModels))]
    public void Model_RoundTripsToEqualMessage(string relativePath)
    {
        var path = OnnxCorpus.Require(relativePath);
        var original = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));

        var model = ModelReader.Read(path);
        var rewritten = ModelProto.Parser.ParseFrom(ModelWriter.ToBytes(model));

        Assert.That(rewritten, Is.EqualTo(original), "the written model differs from the original message");
    }

    [Test]
    public void Corpus_HasTheExpectedSize()
    {
        var count = OnnxCorpus.Models().Count(m => m != OnnxCorpus.Missing);
        if (count == 0) Assert.Ignore("the ONNX backend corpus (../shared/onnx-backend-tests) is absent");
        TestContext.Out.WriteLine($"round-trip corpus: {count} models");
        Assert.That(count, Is.GreaterThan(1900), "the backend corpus should hold about 1,950 models");
    }
}
