using EdgeOpt.Passes.Cleanup;
using EdgeOpt.Passes.Factorization;
using EdgeOpt.Passes.Pruning;
using EdgeOpt.Passes.Quantization;

namespace EdgeOpt.Passes.Core;

/// <summary>A pass the catalog can make: its id, what it does, and how to build it from options.</summary>
public sealed record PassDescriptor(string Id, string Description, bool IsExact, Type OptionsType, PassOptions DefaultOptions, Func<PassOptions, IPass> Create);

/// <summary>The explicit list of passes EdgeOpt offers (no reflection scanning).</summary>
public sealed class PassCatalog
{
    private readonly Dictionary<string, PassDescriptor> _byId;

    public PassCatalog(IEnumerable<PassDescriptor> passes)
    {
        Passes = [.. passes];
        _byId = Passes.ToDictionary(p => p.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<PassDescriptor> Passes { get; }

    /// <summary>Ids of the exact cleanup passes, in the order the <c>cleanup</c> step runs them.</summary>
    public static IReadOnlyList<string> CleanupSequence { get; } =
    [
        HoistConstantsPass.PassId,
        EliminateIdentityPass.PassId,
        FoldConvAffinePass.PassId,
        FoldBatchNormPass.PassId,
        FoldTransposeReshapePass.PassId,
        EliminateDeadCodePass.PassId,
    ];

    public static PassCatalog CreateDefault() => new(
    [
        Describe<HoistConstantsPass, NoOptions>(o => new HoistConstantsPass(o)),
        Describe<EliminateIdentityPass, NoOptions>(o => new EliminateIdentityPass(o)),
        Describe<FoldBatchNormPass, NoOptions>(o => new FoldBatchNormPass(o)),
        Describe<FoldConvAffinePass, NoOptions>(o => new FoldConvAffinePass(o)),
        Describe<ConvTransposeToDepthToSpacePass, NoOptions>(o => new ConvTransposeToDepthToSpacePass(o)),
        Describe<FoldTransposeReshapePass, NoOptions>(o => new FoldTransposeReshapePass(o)),
        Describe<EliminateDeadCodePass, NoOptions>(o => new EliminateDeadCodePass(o)),
        Describe<RemoveInitializerInputsPass, NoOptions>(o => new RemoveInitializerInputsPass(o)),
        Describe<QuantizeDynamicPass, QuantizeDynamicOptions>(o => new QuantizeDynamicPass(o)),
        Describe<QuantizeStaticPass, QuantizeStaticOptions>(o => new QuantizeStaticPass(o)),
        Describe<PruneMagnitudePass, PruneMagnitudeOptions>(o => new PruneMagnitudePass(o)),
        Describe<PruneChannelsPass, PruneChannelsOptions>(o => new PruneChannelsPass(o)),
        Describe<FactorizeSvdPass, FactorizeSvdOptions>(o => new FactorizeSvdPass(o)),
        Describe<FactorizeConvPass, FactorizeConvOptions>(o => new FactorizeConvPass(o)),
    ]);

    /// <summary>The descriptor for <paramref name="id"/>; the error lists the known ids.</summary>
    public PassDescriptor Get(string id) =>
        _byId.TryGetValue(id, out var d) ? d : throw new ArgumentException($"unknown pass '{id}'; known passes: {string.Join(", ", _byId.Keys)}");

    public IPass Create(string id, PassOptions? options = null)
    {
        var d = Get(id);
        options ??= d.DefaultOptions;
        if (options.GetType() != d.OptionsType) throw new ArgumentException($"pass '{id}' takes {d.OptionsType.Name}, not {options.GetType().Name}");
        return d.Create(options);
    }

    private static PassDescriptor Describe<TPass, TOptions>(Func<TOptions, TPass> create)
        where TPass : Pass<TOptions>
        where TOptions : PassOptions, new()
    {
        var sample = create(new TOptions());
        return new PassDescriptor(sample.Id, sample.Description, sample.IsExact, typeof(TOptions), new TOptions(), o => create((TOptions)o));
    }
}
