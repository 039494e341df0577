using System.Text.RegularExpressions;
using EdgeOpt.Pipeline.Reports;

namespace EdgeOpt.Pipeline.Tests.Reports;

public class ReportWriterTests
{
    /// <summary>A baseline and two variants on two targets; the pruned one lists three layers.</summary>
    public static ResultsFile Sample() => new(
    [
        new ModelResults("det",
        [
            new VariantResult("original", "det.onnx", 4_000_000, 1_000_000, 2_000_000_000, null, null,
                [new("x64-cpu", "cpu", 1, 60, 62, 70, 16), new("rpi4", "xnnpack>cpu", 4, 400, 420, 480, 2.5)], []),
            new VariantResult("pruned", "det.pruned.onnx", 2_000_000, 500_000, 1_000_000_000, 0.99, null,
                [new("x64-cpu", "cpu", 1, 40, 41, 45, 25), new("rpi4", "xnnpack>cpu", 4, 250, 260, 300, 4)],
                [new("conv1", "Conv", 100, 50), new("conv2", "Conv", 300, 150), new("fc", "Gemm", 10, null)]),
            new VariantResult("int8", "det.int8.onnx", 1_000_000, 1_000_000, 2_000_000_000, 0.985, 0.97,
                [new("x64-cpu", "cpu", 1, 30, 31, 33, 33)], []),
        ]),
    ]);

    [Test]
    public void Metrics_AlphaBetaDelta()
    {
        var m = Sample().Models[0];
        var rows = ReportWriter.Rows(m).ToList();

        var pruned = rows.Single(r => r.Variant.Name == "pruned" && r.Latency!.Target == "rpi4");
        Assert.That((pruned.Alpha, pruned.Beta, pruned.Delta, pruned.SizeRatio), Is.EqualTo(((double?)2.0, (double?)1.0, (double?)1.6, (double?)2.0)));
        var int8 = rows.Single(r => r.Variant.Name == "int8");
        Assert.That((int8.Alpha, int8.Beta, int8.Delta), Is.EqualTo(((double?)1.0, (double?)0.0, (double?)2.0)), "same params, twice as fast");
        Assert.That(rows, Has.Count.EqualTo(5), "one row per variant and target");
    }

    [Test]
    public void Html_SelfContained_MarksMatchTheData()
    {
        var html = ReportWriter.Html(Sample());

        Assert.That(html, Does.Not.Contain("<script").And.Not.Contain("https://").And.Not.Contain("<link"), "no script, no network");
        Assert.That(Count(html, "bar"), Is.EqualTo(5), "one bar per variant and target");
        Assert.That(Count(html, "whisker"), Is.EqualTo(5));
        Assert.That(Count(html, "point"), Is.EqualTo(6), "3 variants in each of two scatter charts");
        Assert.That(Count(html, "macs-before"), Is.EqualTo(3));
        Assert.That(Count(html, "pareto"), Is.EqualTo(2));
        Assert.That(html, Does.Contain("<h2>det</h2>"));
    }

    [Test]
    public void Markdown_AndCsv_OneRowPerVariantAndTarget()
    {
        var md = ReportWriter.Markdown(Sample());
        var csv = ReportWriter.Csv(Sample()).Trim().Split('\n');

        Assert.That(md.Split('\n').Count(l => l.StartsWith("| ", StringComparison.Ordinal)), Is.EqualTo(6), "header + 5 rows");
        Assert.That(md, Does.Contain("| pruned | rpi4 | xnnpack>cpu |").And.Contain("1.60×"));
        Assert.That(csv, Has.Length.EqualTo(6));
        Assert.That(csv[0].Split(','), Has.Length.EqualTo(18));
        Assert.That(csv[4], Does.StartWith("det,pruned,rpi4,xnnpack>cpu,4,2000000,500000,1000000000,250,260,300,4,0.99,,2,1,1.6,2"));
    }

    [Test]
    public void ResultsFile_RoundTrips_AndMergesByModel()
    {
        var dir = Directory.CreateTempSubdirectory("edgeopt-results-");
        try
        {
            var path = Path.Combine(dir.FullName, "r.json");
            Sample().Write(path);

            var read = ResultsFile.Read(path);
            var merged = ResultsFile.Merge([read, new ResultsFile([new ModelResults("det", [read.Models[0].Variants[0] with { Name = "fp16" }]), new ModelResults("rec", [read.Models[0].Variants[0]])])]);

            Assert.That(read.Models[0].Variants.Select(v => v.Name), Is.EqualTo(new[] { "original", "pruned", "int8" }));
            Assert.That(read.Models[0].Variants[1].Layers[2], Is.EqualTo(new LayerMacs("fc", "Gemm", 10, null)));
            Assert.That(merged.Models.Select(m => (m.Model, m.Variants.Count)), Is.EqualTo(new[] { ("det", 4), ("rec", 1) }));
            var boards = ResultsFile.Merge([read, new ResultsFile([new ModelResults("det", [read.Models[0].Variants[2] with { Latency = [new("pi-kitchen", "cpu", 4, 90, 95, 99, 11)] }])])]);
            Assert.That(boards.Models[0].Variants[2].Latency.Select(l => l.Target), Is.EqualTo(new[] { "x64-cpu", "pi-kitchen" }), "a board's timing joins the variant");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [TestCase("{}", "format")]
    [TestCase("not json", "not an EdgeOpt results file")]
    public void ResultsFile_Bad_SaysWhat(string text, string expected)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, text);
            Assert.That(() => ResultsFile.Read(path), Throws.ArgumentException.With.Message.Contains(expected));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase("r.pdf")]
    [TestCase("r")]
    public void UnknownExtension_Refused(string path) =>
        Assert.That(() => ReportWriter.FormatOf(path), Throws.ArgumentException.With.Message.Contains(".html, .md, .csv or .json"));

    private static int Count(string html, string cssClass) => Regex.Matches(html, $"class=\"{cssClass}\"").Count;
}
