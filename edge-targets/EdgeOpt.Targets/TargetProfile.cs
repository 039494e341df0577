namespace EdgeOpt.Targets;

/// <summary>One execution provider a target prefers, with the options ONNX Runtime gets for it.</summary>
/// <param name="Name">An EP name or alias (cpu, cuda, tensorrt, xnnpack …; see <c>EdgeOpt.Runtime.ExecutionProviders</c>).</param>
/// <param name="Options">Provider options, passed to ONNX Runtime as given.</param>
/// <param name="Optional">Used when the loaded ONNX Runtime build has it, skipped silently otherwise (e.g. XNNPACK on a Pi).</param>
public sealed record ProviderPreference(string Name, IReadOnlyDictionary<string, string> Options, bool Optional = false);

/// <summary>The int8 flavour that runs well on a target.</summary>
/// <param name="Target">The int8 CPU target (host, x64-avx2, x64-avx512-vnni, arm64, arm64-dotprod …) that sets signedness and reduce-range.</param>
/// <param name="Format">qdq or qoperator.</param>
/// <param name="ActivationType">u8 or s8; null: what <paramref name="Target"/>'s policy chooses.</param>
public sealed record Int8Flavour(string Target, string Format = "qdq", string? ActivationType = null);

/// <summary>
/// A deployment target as data (edge-targets/profiles/*.yaml, or a user's file): where the model will run and how it runs
/// well there. Read by <see cref="TargetProfiles"/>; every field is checked with the file and line of a bad value.
/// </summary>
/// <param name="Name">The profile's id (lower-case letters, digits, dashes), e.g. rpi4.</param>
/// <param name="Description">One line for people.</param>
/// <param name="Rid">.NET runtime identifier of the board: linux-x64 or linux-arm64 (the ONNX Runtime library shipped with a bundle follows it).</param>
/// <param name="Threads">Intra-op threads (0: ONNX Runtime chooses).</param>
/// <param name="Providers">Execution providers in preference order; ONNX Runtime places each node on the first that takes it.</param>
/// <param name="Int8">The int8 flavour to build for this target.</param>
/// <param name="Precision">fp32 or fp16: what the target's accelerator prefers for float layers.</param>
/// <param name="OpsetMin">Lowest ONNX opset the target's runtime is known to run well.</param>
/// <param name="OpsetMax">Highest ONNX opset the target's runtime supports.</param>
/// <param name="Source">The file the profile came from.</param>
public sealed record TargetProfile(
    string Name,
    string Description,
    string Rid,
    int Threads,
    IReadOnlyList<ProviderPreference> Providers,
    Int8Flavour Int8,
    string Precision,
    int OpsetMin,
    int OpsetMax,
    string Source)
{
    /// <summary>The runtime identifiers a profile may name (those ONNX Runtime is provisioned for).</summary>
    public static IReadOnlyList<string> KnownRids { get; } = ["linux-x64", "linux-arm64"];

    /// <summary>Whether the board runs arm64 code.</summary>
    public bool IsArm64 => Rid.EndsWith("arm64", StringComparison.Ordinal);
}
