using System.Globalization;

namespace EdgeOpt.Cli;

/// <summary>Parses <c>--input-shape name=1x3x224x224</c> values.</summary>
public static class InputShapes
{
    public static IReadOnlyDictionary<string, long[]> Parse(IEnumerable<string>? specs)
    {
        var result = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var spec in specs ?? [])
        {
            var eq = spec.LastIndexOf('=');
            if (eq <= 0 || eq == spec.Length - 1)
            {
                throw new CliException(ExitCodes.Usage, $"--input-shape '{spec}' is not NAME=DIMS; write it like x=1x3x224x224");
            }
            var name = spec[..eq];
            var dims = spec[(eq + 1)..].Split('x', ',');
            var parsed = new long[dims.Length];
            for (var i = 0; i < dims.Length; i++)
            {
                if (!long.TryParse(dims[i], NumberStyles.None, CultureInfo.InvariantCulture, out parsed[i]) || parsed[i] <= 0)
                {
                    throw new CliException(ExitCodes.Usage, $"--input-shape '{spec}': dimension '{dims[i]}' is not a positive integer");
                }
            }
            if (!result.TryAdd(name, parsed)) throw new CliException(ExitCodes.Usage, $"--input-shape names '{name}' twice");
        }
        return result;
    }
}
