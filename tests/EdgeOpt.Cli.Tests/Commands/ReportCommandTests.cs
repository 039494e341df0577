using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeOpt.TestKit;

namespace EdgeOpt.Cli.Tests.Commands;

/// <summary><c>edgeopt compare</c> then <c>edgeopt report</c> on a real model and its int8 variant; the HTML rendered in headless Chromium.</summary>
public class ReportCommandTests
{
    private static string Model => TestPaths.RequireArtifact("models", "ppocr_mobile_v2_cls.onnx");

    private static string Data => TestPaths.RequireShared("data", "ocr_cls");

    [Test]
    public void CompareThenReport_AllFormats_HtmlRendersInChromiumWithEveryMark()
    {
        TestPaths.RequireArtifact("onnxruntime");
        using var dir = new TempDir();
        var int8 = dir.File("cls.int8.onnx");
        Assert.That(CliRunner.Run("optimize", Model, "-o", int8, "--quantize", "static", "--calibration-data", Data, "--calibration-samples", "4").ExitCode, Is.EqualTo(ExitCodes.Ok));
        var results = dir.File("results.json");

        var compare = CliRunner.Run("compare", Model, int8, "--names", "fp32,int8", "--data", Data, "--samples", "4", "--runs", "5", "--warmup", "1", "--rounds", "1",
            "--target", "x64-cpu", "--target", "rpi4", "-o", results);

        Assert.That(compare.ExitCode, Is.EqualTo(ExitCodes.Ok), compare.StdErr + compare.StdOut);
        var variants = JsonDocument.Parse(File.ReadAllText(results)).RootElement.GetProperty("models")[0].GetProperty("variants");
        Assert.That(variants.GetArrayLength(), Is.EqualTo(2));
        Assert.That(variants[1].GetProperty("cosine").GetDouble(), Is.GreaterThan(0.99));
        Assert.That(variants[1].GetProperty("latency").GetArrayLength(), Is.EqualTo(2), "two targets");

        var report = CliRunner.Run("report", results, "-o", dir.File("r.html"), "-o", dir.File("r.md"), "-o", dir.File("r.csv"), "-o", dir.File("r.json"));
        Assert.That(report.ExitCode, Is.EqualTo(ExitCodes.Ok), report.StdErr);
        Assert.That(File.ReadAllLines(dir.File("r.csv")), Has.Length.EqualTo(1 + 4), "header + 2 variants × 2 targets");
        Assert.That(File.ReadAllText(dir.File("r.md")), Does.Contain("| int8 | rpi4 |"));

        if (SystemPackages.Ensure("/usr/bin/chromium", "chromium") is { } reason) Assert.Ignore($"the rendering check needs Chromium: {reason}");
        var (exit, dom, stderr) = Chromium("--dump-dom", "file://" + dir.File("r.html"));
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stderr, Does.Not.Contain("CONSOLE").And.Not.Contain("Uncaught"), "the page loads without errors");
        Assert.That(Marks(dom, "bar"), Is.EqualTo(4), "a latency bar per variant and target");
        Assert.That(Marks(dom, "whisker"), Is.EqualTo(4));
        Assert.That(Marks(dom, "point"), Is.EqualTo(4), "2 variants in each scatter chart");
        Assert.That(Marks(dom, "macs-before"), Is.GreaterThan(10));
        var png = dir.File("r.png");
        Assert.That(Chromium("--window-size=1300,1200", "--screenshot=" + png, "file://" + dir.File("r.html")).Exit, Is.EqualTo(0));
        Assert.That(new FileInfo(png).Length, Is.GreaterThan(10_000), "a rendered page, not a blank one");
    }

    [Test]
    public void Report_NotAResultsFile_UsageError()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("x.json"), "{\"format\": \"something-else\"}");

        var run = CliRunner.Run("report", dir.File("x.json"), "-o", dir.File("r.html"));

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("edgeopt-results/1"));
        Assert.That(File.Exists(dir.File("r.html")), Is.False);
    }

    private static int Marks(string dom, string cssClass) => Regex.Matches(dom, $"class=\"{cssClass}\"").Count;

    private static (int Exit, string StdOut, string StdErr) Chromium(params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/chromium") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0" }.Concat(args)) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(1))) p.Kill(entireProcessTree: true);
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
