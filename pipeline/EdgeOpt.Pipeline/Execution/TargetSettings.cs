using EdgeOpt.Runtime;
using EdgeOpt.Targets;

namespace EdgeOpt.Pipeline.Execution;

/// <summary>Runtime settings that run a model as a target profile says.</summary>
public static class TargetSettings
{
    /// <summary>
    /// Settings that run as on <paramref name="profile"/>: its providers the library has, in order (an optional one it lacks is
    /// left out; a required one it lacks is an error naming what it has), with the profile's options under any --ep-option, and
    /// the profile's threads unless --threads was given.
    /// </summary>
    public static RuntimeSettings For(TargetProfile profile, OrtLibrary library, RuntimeSettings given, Action<string>? note = null)
    {
        var chosen = new List<ProviderSpec>();
        foreach (var p in profile.Providers)
        {
            try
            {
                ExecutionProviders.Resolve(p.Name, library);
            }
            catch (ExecutionProviderException) when (p.Optional)
            {
                note?.Invoke($"target {profile.Name}: optional provider {p.Name} is not in this ONNX Runtime library; skipped");
                continue;
            }
            var options = new Dictionary<string, string>(p.Options, StringComparer.Ordinal);
            if (chosen.Count == 0) foreach (var (k, v) in given.ExecutionProviderOptions ?? new Dictionary<string, string>()) options[k] = v;
            chosen.Add(new ProviderSpec(p.Name, options));
        }
        return given with
        {
            ExecutionProvider = chosen[0].Name,
            ExecutionProviderOptions = chosen[0].Options,
            ThenProviders = chosen.Count > 1 ? chosen.Skip(1).ToList() : null,
            IntraOpThreads = given.IntraOpThreads != 0 ? given.IntraOpThreads : profile.Threads,
        };
    }
}
