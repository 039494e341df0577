using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Onnx.IO;

/// <summary>Resolves external-data locations, refusing any that leave the model's folder.</summary>
public static class ExternalDataPaths
{
    /// <summary>
    /// The full path of <paramref name="location"/> inside <paramref name="modelDirectory"/>; throws
    /// <see cref="ArgumentException"/> for absolute paths and paths that escape the folder (e.g. with "..").
    /// </summary>
    public static string Resolve(string modelDirectory, string location)
    {
        if (string.IsNullOrEmpty(location)) throw new ArgumentException("the external data location is empty");
        if (Path.IsPathRooted(location) || location.Contains(':', StringComparison.Ordinal))
        {
            throw new ArgumentException($"the external data location '{location}' is absolute; ONNX requires a path relative to the model's folder");
        }
        var root = Path.GetFullPath(modelDirectory);
        var full = Path.GetFullPath(Path.Combine(root, location));
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"the external data location '{location}' leaves the model's folder '{root}'; refusing to read or write outside it");
        }
        return full;
    }

    internal static ExternalDataRef Parse(Proto.TensorProto p, string? modelDirectory, long expectedBytes)
    {
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (var e in p.ExternalData)
        {
            switch (e.Key)
            {
                case "location": location = e.Value; break;
                case "offset": offset = ParseLong(e.Value, "offset"); break;
                case "length": length = ParseLong(e.Value, "length"); break;
            }
        }
        if (location == null) throw new ArgumentException("external data has no 'location' entry");
        if (modelDirectory == null) throw new ArgumentException($"external data '{location}' needs the model's folder: load the model from a file, not a stream");
        var full = Resolve(modelDirectory, location);
        if (!File.Exists(full)) throw new ArgumentException($"external data file '{location}' does not exist beside the model (looked for '{full}')");
        var fileLength = new FileInfo(full).Length;
        var len = length ?? expectedBytes;
        if (len != expectedBytes) throw new ArgumentException($"external data length {len} does not match the {expectedBytes} bytes its type and dims need");
        if (offset < 0 || offset + len > fileLength)
        {
            throw new ArgumentException($"external data range [{offset}, {offset + len}) lies outside '{location}' ({fileLength} bytes): the file is truncated or the offset is wrong");
        }
        return new ExternalDataRef(location, full, offset, len);
    }

    private static long ParseLong(string s, string key) =>
        long.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new ArgumentException($"external data '{key}' is not an integer: '{s}'");
}
