using System.Runtime.InteropServices;
using ProcessArchitecture = System.Runtime.InteropServices.Architecture;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeOpt.Pipeline.Calibration;

/// <summary>The CPU families whose int8 kernels <see cref="QuantizationPolicy"/> knows.</summary>
public enum CpuArchitecture
{
    X64,
    Arm64,
    Other,
}

/// <summary>The int8 instructions that decide which kernel ONNX Runtime's MLAS runs quantized Conv/MatMul/Gemm on.</summary>
[Flags]
public enum Int8Features
{
    None = 0,

    /// <summary>x64 AVX2: the u8s8 kernel uses vpmaddubsw (16-bit saturating pair sums).</summary>
    Avx2 = 1 << 0,

    /// <summary>x64 AVX-512 F/BW/DQ/VL: the 512-bit u8s8 kernel, still vpmaddubsw without VNNI.</summary>
    Avx512Core = 1 << 1,

    /// <summary>x64 AVX-512 VNNI: vpdpbusd accumulates u8×s8 straight into 32 bits (Cascade Lake, Ice Lake, Zen 4).</summary>
    Avx512Vnni = 1 << 2,

    /// <summary>x64 AVX-VNNI (VEX-encoded vpdpbusd, Alder Lake and later).</summary>
    AvxVnni = 1 << 3,

    /// <summary>x64 AVX-VNNI-INT8: native s8s8/u8u8 dot products (vpdpbssd, Arrow Lake, Sierra Forest).</summary>
    AvxVnniInt8 = 1 << 4,

    /// <summary>Arm64 dot product (SDOT/UDOT, Armv8.2 DotProd: Cortex-A55/A76 and later, Raspberry Pi 5, Jetson Orin).</summary>
    ArmDotProduct = 1 << 5,
}

/// <summary>
/// A CPU as int8 quantization sees it: its architecture and int8 features. <see cref="Host"/> detects the machine
/// running EdgeOpt; the named targets (<see cref="Parse"/>) describe machines it is not running on, such as the
/// deployment device of a target profile.
/// </summary>
/// <param name="Name">A short stable name (x64-avx2, arm64-dotprod, …; "host (…)" for the detected machine).</param>
public sealed record Int8Target(string Name, CpuArchitecture Architecture, Int8Features Features)
{
    /// <summary>x64 with AVX2 and no VNNI (Haswell to Coffee Lake, Zen 1–3).</summary>
    public static Int8Target X64Avx2 { get; } = new("x64-avx2", CpuArchitecture.X64, Int8Features.Avx2);

    /// <summary>x64 with AVX-512 but no VNNI (Skylake-SP/X).</summary>
    public static Int8Target X64Avx512 { get; } = new("x64-avx512", CpuArchitecture.X64, Int8Features.Avx2 | Int8Features.Avx512Core);

    /// <summary>x64 with AVX-512 VNNI (Cascade Lake, Ice Lake, Sapphire Rapids, Zen 4/5).</summary>
    public static Int8Target X64Avx512Vnni { get; } = new("x64-avx512-vnni", CpuArchitecture.X64, Int8Features.Avx2 | Int8Features.Avx512Core | Int8Features.Avx512Vnni);

    /// <summary>x64 with AVX-VNNI and no AVX-512 (Alder Lake, Raptor Lake).</summary>
    public static Int8Target X64AvxVnni { get; } = new("x64-avx-vnni", CpuArchitecture.X64, Int8Features.Avx2 | Int8Features.AvxVnni);

    /// <summary>Arm64 without dot product (Cortex-A53/A57/A72: Raspberry Pi 3/4, Jetson Nano).</summary>
    public static Int8Target Arm64 { get; } = new("arm64", CpuArchitecture.Arm64, Int8Features.None);

    /// <summary>Arm64 with dot product (Cortex-A55/A76/A78 and later: Raspberry Pi 5, Jetson Orin, Apple M).</summary>
    public static Int8Target Arm64DotProduct { get; } = new("arm64-dotprod", CpuArchitecture.Arm64, Int8Features.ArmDotProduct);

    /// <summary>The named targets, in the order <see cref="Parse"/> lists them.</summary>
    public static IReadOnlyList<Int8Target> Known { get; } = [X64Avx2, X64Avx512, X64Avx512Vnni, X64AvxVnni, Arm64, Arm64DotProduct];

    /// <summary>Whether every feature in <paramref name="features"/> is present.</summary>
    public bool Has(Int8Features features) => (Features & features) == features;

    /// <summary>The policy that keeps ONNX Runtime's int8 kernels on this target out of saturation.</summary>
    public QuantizationPolicy Policy() => QuantizationPolicy.For(this);

    /// <summary>E.g. "x64: AVX2, AVX-512, AVX-512 VNNI".</summary>
    public string Describe()
    {
        var names = new List<string>();
        if (Has(Int8Features.Avx2)) names.Add("AVX2");
        if (Has(Int8Features.Avx512Core)) names.Add("AVX-512");
        if (Has(Int8Features.Avx512Vnni)) names.Add("AVX-512 VNNI");
        if (Has(Int8Features.AvxVnni)) names.Add("AVX-VNNI");
        if (Has(Int8Features.AvxVnniInt8)) names.Add("AVX-VNNI-INT8");
        if (Has(Int8Features.ArmDotProduct)) names.Add("dot product");
        var arch = Architecture switch { CpuArchitecture.X64 => "x64", CpuArchitecture.Arm64 => "arm64", _ => "other" };
        return $"{arch}: {(names.Count == 0 ? "no int8 extensions" : string.Join(", ", names))}";
    }

    /// <summary>A named target (case-insensitive), or "host" for the machine running EdgeOpt.</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
    public static Int8Target Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim();
        if (key.Equals("host", StringComparison.OrdinalIgnoreCase)) return Host();
        return Known.FirstOrDefault(t => t.Name.Equals(key, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown int8 target '{name}': use host, {string.Join(", ", Known.Select(t => t.Name))}");
    }

    /// <summary>
    /// The machine running EdgeOpt. x64 features come from CPUID, as MLAS reads them; AVX2 and AVX-512 also need
    /// the OS to save their registers, which .NET checks (so a runtime with those ISAs switched off via
    /// <c>DOTNET_EnableAVX512F=0</c> reports less, never more, than MLAS will use).
    /// </summary>
    public static Int8Target Host()
    {
        var target = RuntimeInformation.ProcessArchitecture switch
        {
            ProcessArchitecture.X64 => new Int8Target("host", CpuArchitecture.X64, DetectX64()),
            ProcessArchitecture.Arm64 => new Int8Target("host", CpuArchitecture.Arm64, Dp.IsSupported ? Int8Features.ArmDotProduct : Int8Features.None),
            _ => new Int8Target("host", CpuArchitecture.Other, Int8Features.None),
        };
        return target with { Name = $"host ({target.Describe()})" };
    }

    private static Int8Features DetectX64()
    {
        if (!X86Base.IsSupported) return Int8Features.None;
        var features = Int8Features.None;
        var (_, leaf7Ebx, leaf7Ecx, _) = X86Base.CpuId(7, 0);
        var (leaf71Eax, _, _, leaf71Edx) = X86Base.CpuId(7, 1);
        if (Avx2.IsSupported) features |= Int8Features.Avx2;
        if (Avx2.IsSupported && (leaf71Eax & (1 << 4)) != 0) features |= Int8Features.AvxVnni;
        if (Avx2.IsSupported && (leaf71Edx & (1 << 4)) != 0) features |= Int8Features.AvxVnniInt8;
        const int bwDqVl = unchecked((int)0xC0020000);
        if (Avx512F.IsSupported && (leaf7Ebx & bwDqVl) == bwDqVl)
        {
            features |= Int8Features.Avx512Core;
            if ((leaf7Ecx & (1 << 11)) != 0) features |= Int8Features.Avx512Vnni;
        }
        return features;
    }
}

/// <summary>
/// How int8 quantization should be set up for a target so ONNX Runtime's CPU kernels cannot saturate: the signedness
/// of activations, whether weights are reduced to 7 bits, and why. Goes into the optimization report.
/// </summary>
/// <param name="Target">The target the policy was chosen for.</param>
/// <param name="SignedActivations">Activations int8 (true) or uint8 (false); weights are always int8.</param>
/// <param name="ReduceRange">Quantize weights to 7 bits ([−64, 64]) so 16-bit pair sums cannot overflow.</param>
/// <param name="Kernel">The MLAS u8s8/s8s8 kernel the target gets, e.g. "AVX2 vpmaddubsw".</param>
/// <param name="Reason">Why, in a sentence or two, for the report.</param>
public sealed record QuantizationPolicy(Int8Target Target, bool SignedActivations, bool ReduceRange, string Kernel, string Reason)
{
    /// <summary>"int8" or "uint8".</summary>
    public string ActivationType => SignedActivations ? "int8" : "uint8";

    /// <summary>Always "int8" (symmetric, as ONNX Runtime quantizes weights for its CPU kernels).</summary>
    public string WeightType => "int8";

    /// <summary>The integer range weights are quantized to: [−64, 64] with reduce-range, else [−127, 127] (symmetric).</summary>
    public (int Min, int Max) WeightRange => ReduceRange ? (-64, 64) : (-127, 127);

    /// <summary>One line for reports: "uint8 activations, int8 weights [-64, 64] (reduce-range): …".</summary>
    public override string ToString() =>
        $"{ActivationType} activations, {WeightType} weights [{WeightRange.Min}, {WeightRange.Max}]{(ReduceRange ? " (reduce-range)" : "")} on {Target.Name}, {Kernel}: {Reason}";

    /// <summary>
    /// The policy for <paramref name="target"/>. On x64, MLAS runs u8s8 kernels (int8 QDQ activations are turned into
    /// uint8 first, since int8 activations are not allowed in x86 QDQ fusion), so activations are uint8; without VNNI
    /// those kernels use (v)pmaddubsw, whose 16-bit pair sums saturate (255·127·2 = 64,770 &gt; 32,767): weights are
    /// reduced to 7 bits (255·64·2 = 32,640 fits), ONNX Runtime's own advice for non-VNNI CPUs. With VNNI, vpdpbusd
    /// sums into 32 bits and full-range weights are safe. On Arm64, int8 activations run natively (SDOT with the
    /// dot-product extension, widening NEON kernels without), the format ONNX Runtime recommends; no reduce-range.
    /// </summary>
    public static QuantizationPolicy For(Int8Target target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.Architecture switch
        {
            CpuArchitecture.X64 => X64(target),
            CpuArchitecture.Arm64 => target.Has(Int8Features.ArmDotProduct)
                ? new QuantizationPolicy(target, SignedActivations: true, ReduceRange: false, "NEON SDOT",
                    "arm64 with the dot-product extension: MLAS runs int8×int8 on SDOT, which accumulates into 32 bits, and ONNX Runtime keeps int8 QDQ activations on Arm (its recommended S8S8 format); no saturation, no reduce-range")
                : new QuantizationPolicy(target, SignedActivations: true, ReduceRange: false, "NEON widening multiply-accumulate",
                    "arm64 without dot product: MLAS's NEON kernels widen products before accumulating, and symmetric int8 weights in [-127, 127] keep them in range; int8 activations (ONNX Runtime's S8S8 default on Arm), no reduce-range (it only matters on x64 without VNNI)"),
            _ => new QuantizationPolicy(target, SignedActivations: false, ReduceRange: true, "unknown",
                "unknown CPU: the kernel is not known, so weights are reduced to 7 bits to rule out 16-bit saturation (costs some weight precision)"),
        };
    }

    private static QuantizationPolicy X64(Int8Target target)
    {
        var vnni = target.Has(Int8Features.Avx512Core) ? target.Has(Int8Features.Avx512Vnni) : target.Has(Int8Features.AvxVnni);
        if (vnni)
        {
            var kernel = target.Has(Int8Features.Avx512Core) ? "AVX-512 VNNI vpdpbusd" : "AVX-VNNI vpdpbusd";
            return new QuantizationPolicy(target, SignedActivations: false, ReduceRange: false, kernel,
                $"x64 with {(target.Has(Int8Features.Avx512Core) ? "AVX-512 VNNI" : "AVX-VNNI")}: MLAS's u8s8 kernel accumulates u8×s8 products straight into 32 bits, so full-range int8 weights cannot saturate; " +
                "uint8 activations because ONNX Runtime converts int8 QDQ activations to uint8 on x86 anyway");
        }
        var saturating = target.Has(Int8Features.Avx512Core) ? "AVX-512BW vpmaddubsw" : target.Has(Int8Features.Avx2) ? "AVX2 vpmaddubsw" : "SSE4.1 pmaddubsw";
        return new QuantizationPolicy(target, SignedActivations: false, ReduceRange: true, saturating,
            $"x64 without VNNI: MLAS's u8s8 kernel uses {saturating.Split(' ')[1]}, which adds pairs of u8×s8 products in a saturating 16-bit lane (255·127·2 = 64,770 > 32,767), a known accuracy failure; " +
            "weights are reduced to 7 bits (255·64·2 = 32,640 fits), as ONNX Runtime advises for non-VNNI CPUs (u8u8 also avoids it, but runs slower); " +
            "int8 activations would not help, ONNX Runtime turns them into uint8 on x86");
    }
}
