using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using EdgeOpt.Pipeline.Calibration;

namespace EdgeOpt.Pipeline.Tests.Calibration;

public class Int8TargetTests
{
    [Test]
    public void Avx2WithoutVnni_ReduceRange_BecauseVpmaddubswSaturates()
    {
        var policy = Int8Target.X64Avx2.Policy();

        Assert.That((policy.SignedActivations, policy.ReduceRange, policy.WeightRange), Is.EqualTo((false, true, (-64, 64))));
        Assert.That(policy.Kernel, Is.EqualTo("AVX2 vpmaddubsw"));
        Assert.That(policy.Reason, Does.Contain("vpmaddubsw").And.Contain("32,767").And.Contain("7 bits"));
    }

    [Test]
    public void Avx512WithoutVnni_StillReduceRange()
    {
        var policy = Int8Target.X64Avx512.Policy();

        Assert.That(policy.ReduceRange, Is.True);
        Assert.That(policy.Kernel, Is.EqualTo("AVX-512BW vpmaddubsw"));
    }

    [TestCase("x64-avx512-vnni", "AVX-512 VNNI vpdpbusd")]
    [TestCase("x64-avx-vnni", "AVX-VNNI vpdpbusd")]
    public void Vnni_FullRangeWeights_UnsignedActivations(string target, string kernel)
    {
        var policy = Int8Target.Parse(target).Policy();

        Assert.That((policy.SignedActivations, policy.ReduceRange, policy.WeightRange), Is.EqualTo((false, false, (-127, 127))));
        Assert.That(policy.Kernel, Is.EqualTo(kernel));
        Assert.That(policy.ActivationType, Is.EqualTo("uint8"));
    }

    [Test]
    public void Avx512CoreWithOnlyAvxVnni_UsesThe512BitSaturatingKernel()
    {
        var target = new Int8Target("odd", CpuArchitecture.X64, Int8Features.Avx2 | Int8Features.Avx512Core | Int8Features.AvxVnni);

        Assert.That(target.Policy().ReduceRange, Is.True, "MLAS picks its AVX-512BW u8s8 kernel over the AVX-VNNI one when AVX-512 VNNI is absent");
    }

    [TestCase("arm64-dotprod", "NEON SDOT")]
    [TestCase("arm64", "NEON widening multiply-accumulate")]
    public void Arm64_SignedActivations_NoReduceRange(string target, string kernel)
    {
        var policy = Int8Target.Parse(target).Policy();

        Assert.That((policy.SignedActivations, policy.ReduceRange), Is.EqualTo((true, false)));
        Assert.That(policy.Kernel, Is.EqualTo(kernel));
        Assert.That(policy.ActivationType, Is.EqualTo("int8"));
    }

    [Test]
    public void UnknownCpu_Conservative()
    {
        var policy = new Int8Target("riscv", CpuArchitecture.Other, Int8Features.None).Policy();

        Assert.That(policy.ReduceRange, Is.True);
    }

    [Test]
    public void Policy_ToString_CarriesTheChoiceForTheReport()
    {
        var line = Int8Target.X64Avx2.Policy().ToString();

        Assert.That(line, Does.StartWith("uint8 activations, int8 weights [-64, 64] (reduce-range) on x64-avx2, AVX2 vpmaddubsw:"));
    }

    [Test]
    public void Parse_Unknown_ListsTheTargets()
    {
        var e = Assert.Throws<ArgumentException>(() => Int8Target.Parse("x86"))!;
        Assert.That(e.Message, Does.Contain("host").And.Contain("x64-avx2").And.Contain("arm64-dotprod"));
    }

    [Test]
    public void Host_MatchesWhatTheRuntimeReports()
    {
        var host = Int8Target.Parse("host");

        Assert.That(host.Name, Does.StartWith("host (").And.Contain(host.Describe()));
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64) Assert.Ignore("the x64 checks need an x64 machine");
        Assert.That(host.Architecture, Is.EqualTo(CpuArchitecture.X64));
        Assert.That(host.Has(Int8Features.Avx2), Is.EqualTo(Avx2.IsSupported));
        Assert.That(host.Has(Int8Features.AvxVnni), Is.EqualTo(AvxVnni.IsSupported));
        if (host.Has(Int8Features.Avx512Vnni)) Assert.That(Avx512BW.IsSupported, Is.True);
    }

    [Test]
    public void Describe_ListsTheFeatures() =>
        Assert.That(Int8Target.X64Avx512Vnni.Describe(), Is.EqualTo("x64: AVX2, AVX-512, AVX-512 VNNI"));
}
