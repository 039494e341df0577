using System.Text.Json;

namespace EdgeOpt.Cli.Tests.Commands;

/// <summary><c>edgeopt targets</c>: the built-in and user profiles.</summary>
public class TargetsCommandTests
{
    [Test]
    public void Json_ListsTheBuiltInTargets()
    {
        var run = CliRunner.Run("targets", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        var names = JsonDocument.Parse(run.StdOut).RootElement.EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
        Assert.That(names, Is.SupersetOf(new[] { "x64-cpu", "x64-cuda", "x64-tensorrt", "rpi4", "rpi5", "jetson-nano", "jetson-orin" }));
    }

    [Test]
    public void OneTarget_ShowsItsProvidersAndInt8Flavour()
    {
        var run = CliRunner.Run("targets", "jetson-orin");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.StdErr);
        Assert.That(run.StdOut, Does.Contain("tensorrt").And.Contain("arm64-dotprod").And.Contain("linux-arm64"));
    }

    [Test]
    public void UnknownTarget_UsageErrorListingThem()
    {
        var run = CliRunner.Run("targets", "pi-zero");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("no target profile 'pi-zero'").And.Contain("rpi4"));
    }

    [Test]
    public void BadUserProfile_UsageErrorWithFileAndLine()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("lab.yaml"), "name: lab\nrid: linux-x64\nproviders: [{ name: cpu }]\nthreds: 2\n");

        var run = CliRunner.Run("targets", "--targets-dir", dir.Path);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.StdErr, Does.Contain("lab.yaml:4:1: unknown key 'threds'"));
    }
}
