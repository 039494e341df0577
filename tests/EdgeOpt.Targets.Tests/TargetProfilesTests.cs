using EdgeOpt.Targets;

namespace EdgeOpt.Targets.Tests;

public class TargetProfilesTests
{
    private static readonly string[] Int8Targets = ["x64-avx2", "x64-avx512-vnni", "arm64", "arm64-dotprod"];

    private const string Valid = """
        name: board
        description: a test board
        rid: linux-arm64
        threads: 4
        providers:
          - name: xnnpack
            options: { intra_op_num_threads: "4" }
            optional: true
          - name: cpu
        int8: { target: arm64-dotprod, format: qoperator, activationType: s8 }
        precision: fp16
        opset: { min: 13, max: 19 }
        """;

    private static TargetProfile Parse(string text) => TargetProfiles.Parse(text, "board.yaml", Int8Targets);

    [Test]
    public void BuiltIn_EveryIssueTargetLoads()
    {
        var all = TargetProfiles.LoadAll(Int8Targets);

        Assert.That(all.Select(p => p.Name), Is.SupersetOf(new[] { "x64-cpu", "x64-cuda", "x64-tensorrt", "rpi4", "rpi5", "jetson-nano", "jetson-orin" }));
        var rpi4 = all.Single(p => p.Name == "rpi4");
        Assert.That((rpi4.Rid, rpi4.Threads, rpi4.Int8.Target), Is.EqualTo(("linux-arm64", 4, "arm64")), "A72 has no dot product");
        Assert.That(all.Single(p => p.Name == "rpi5").Int8.Target, Is.EqualTo("arm64-dotprod"));
        Assert.That(all.Single(p => p.Name == "jetson-nano").Providers.Select(p => p.Name), Is.EqualTo(new[] { "tensorrt", "cuda", "cpu" }));
        Assert.That(all.Where(p => p.Providers[^1].Name != "cpu"), Is.Empty, "every target ends on the CPU EP");
    }

    [Test]
    public void Valid_EveryFieldRead()
    {
        var p = Parse(Valid);

        Assert.That((p.Name, p.Description, p.Rid, p.Threads, p.Precision, p.OpsetMin, p.OpsetMax), Is.EqualTo(("board", "a test board", "linux-arm64", 4, "fp16", 13, 19)));
        Assert.That(p.Providers[0], Is.EqualTo(p.Providers[0] with { Name = "xnnpack", Optional = true }));
        Assert.That(p.Providers[0].Options["intra_op_num_threads"], Is.EqualTo("4"));
        Assert.That(p.Int8, Is.EqualTo(new Int8Flavour("arm64-dotprod", "qoperator", "s8")));
        Assert.That(p.IsArm64, Is.True);
    }

    [Test]
    public void Json_IsAcceptedToo()
    {
        var p = Parse("""{ "name": "j", "rid": "linux-x64", "providers": [ { "name": "cpu" } ] }""");

        Assert.That((p.Name, p.Int8.Target, p.Precision, p.Threads), Is.EqualTo(("j", "host", "fp32", 0)));
    }

    [TestCase("threads: 4", "thread: 4", "board.yaml:4:1: unknown key 'thread'")]
    [TestCase("rid: linux-arm64", "rid: linux-riscv", "board.yaml:3:6: rid 'linux-riscv' is not one of linux-x64, linux-arm64")]
    [TestCase("  - name: cpu", "  - name: gpu", "board.yaml:9:11: unknown execution provider 'gpu'")]
    [TestCase("target: arm64-dotprod", "target: cortex", "board.yaml:10:17: unknown int8 target 'cortex'")]
    [TestCase("precision: fp16", "precision: int4", "board.yaml:11:12: precision 'int4' is not fp32 or fp16")]
    [TestCase("threads: 4", "threads: four", "board.yaml:4:10: 'threads' must be a whole number, not 'four'")]
    [TestCase("optional: true", "optional: maybe", "board.yaml:8:15: 'optional' must be true or false")]
    [TestCase("name: board", "name: Board_1", "board.yaml:1:7: name 'Board_1' must be lower-case")]
    [TestCase("opset: { min: 13, max: 19 }", "opset: { min: 13, max: 9 }", "board.yaml:12:8: opset range 13..9")]
    [TestCase("format: qoperator", "format: tflite", "int8 format 'tflite' is not qdq or qoperator")]
    public void BadValue_ErrorNamesFileAndLine(string from, string to, string expected)
    {
        Assert.That(Valid, Does.Contain(from));

        Assert.That(() => Parse(Valid.Replace(from, to)), Throws.TypeOf<TargetProfileException>().With.Message.Contains(expected));
    }

    [Test]
    public void MissingProviders_SaysWhatToWrite() =>
        Assert.That(() => Parse("name: x\nrid: linux-x64\n"), Throws.TypeOf<TargetProfileException>().With.Message.Contains("providers must list at least one"));

    [Test]
    public void OnlyOptionalProviders_Refused() =>
        Assert.That(() => Parse("name: x\nrid: linux-x64\nproviders: [{ name: xnnpack, optional: true }]\n"),
            Throws.TypeOf<TargetProfileException>().With.Message.Contains("at least one provider must not be optional"));

    [Test]
    public void NotYaml_ErrorWithPosition() =>
        Assert.That(() => Parse("name: [unclosed\n"), Throws.TypeOf<TargetProfileException>().With.Message.StartsWith("board.yaml:").And.Message.Contains("not valid YAML"));

    [Test]
    public void UserFolder_AddsAndOverridesByName_FindByNameOrPath()
    {
        var dir = Directory.CreateTempSubdirectory("edgeopt-targets-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "rpi4.yaml"), "name: rpi4\nrid: linux-arm64\nthreads: 2\nproviders: [{ name: cpu }]\n");
            File.WriteAllText(Path.Combine(dir.FullName, "lab.yml"), "name: lab-box\nrid: linux-x64\nproviders: [{ name: cpu }]\n");
            File.WriteAllText(Path.Combine(dir.FullName, "notes.txt"), "not a profile");

            var all = TargetProfiles.LoadAll(Int8Targets, dir.FullName);

            Assert.That(all.Single(p => p.Name == "rpi4").Threads, Is.EqualTo(2), "the user's rpi4 replaces the built-in one");
            Assert.That(all.Select(p => p.Name), Does.Contain("lab-box").And.Contain("jetson-orin"));
            Assert.That(TargetProfiles.Find("LAB-BOX", Int8Targets, dir.FullName).Rid, Is.EqualTo("linux-x64"));
            Assert.That(TargetProfiles.Find(Path.Combine(dir.FullName, "lab.yml"), Int8Targets).Name, Is.EqualTo("lab-box"));
            Assert.That(() => TargetProfiles.Find("pi-zero", Int8Targets), Throws.TypeOf<TargetProfileException>().With.Message.Contains("rpi4, rpi5"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void MissingUserFolder_Refused() =>
        Assert.That(() => TargetProfiles.LoadAll(Int8Targets, "/nonexistent/targets"), Throws.TypeOf<TargetProfileException>().With.Message.Contains("does not exist"));
}
