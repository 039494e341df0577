using System.Text.RegularExpressions;
using EdgeOpt.Runtime;
using YamlDotNet.RepresentationModel;

namespace EdgeOpt.Targets;

/// <summary>A profile file that cannot be used: the message starts with <c>file:line:column</c> and says what to change.</summary>
public sealed class TargetProfileException(string message) : Exception(message);

/// <summary>
/// Reads target profiles from YAML (YamlDotNet's parser; JSON is YAML too) and finds them by name: the built-in ones beside
/// the assembly (<c>profiles/*.yaml</c>) and any folders the user adds, later folders overriding earlier ones by name.
/// Unknown keys and bad values are errors naming the file and line.
/// </summary>
public static partial class TargetProfiles
{
    private static readonly string[] Keys = ["name", "description", "rid", "threads", "providers", "int8", "precision", "opset"];

    /// <summary>The folder of the built-in profiles (beside this assembly).</summary>
    public static string BuiltInDirectory => Path.Combine(AppContext.BaseDirectory, "profiles");

    /// <summary>
    /// Every profile in <see cref="BuiltInDirectory"/> and then <paramref name="extraDirectories"/> (a later file with the same name
    /// replaces an earlier one), sorted by name. <paramref name="int8Targets"/> lists the int8 target names a profile may use.
    /// </summary>
    /// <exception cref="TargetProfileException">A file is malformed; the message names it and the line.</exception>
    public static IReadOnlyList<TargetProfile> LoadAll(IReadOnlyCollection<string> int8Targets, params IEnumerable<string> extraDirectories)
    {
        var byName = new Dictionary<string, TargetProfile>(StringComparer.Ordinal);
        foreach (var dir in extraDirectories.Prepend(BuiltInDirectory))
        {
            if (!Directory.Exists(dir))
            {
                if (dir == BuiltInDirectory) continue;
                throw new TargetProfileException($"{dir}: the target folder does not exist");
            }
            foreach (var file in Directory.EnumerateFiles(dir).Where(IsProfileFile).Order(StringComparer.Ordinal))
            {
                var profile = Read(file, int8Targets);
                byName[profile.Name] = profile;
            }
        }
        return [.. byName.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The profile <paramref name="nameOrPath"/>: a path to a profile file, or the name of one in the folders of <see cref="LoadAll"/>.
    /// </summary>
    /// <exception cref="TargetProfileException">No such profile (the message lists those there are) or a malformed file.</exception>
    public static TargetProfile Find(string nameOrPath, IReadOnlyCollection<string> int8Targets, params IEnumerable<string> extraDirectories)
    {
        if (File.Exists(nameOrPath)) return Read(nameOrPath, int8Targets);
        var all = LoadAll(int8Targets, extraDirectories);
        return all.FirstOrDefault(p => p.Name.Equals(nameOrPath, StringComparison.OrdinalIgnoreCase))
            ?? throw new TargetProfileException($"no target profile '{nameOrPath}': the targets are {string.Join(", ", all.Select(p => p.Name))} (or pass a profile file's path)");
    }

    /// <summary>Reads one profile file.</summary>
    /// <exception cref="TargetProfileException">The file is missing, is not YAML/JSON, or has unknown keys or bad values.</exception>
    public static TargetProfile Read(string path, IReadOnlyCollection<string> int8Targets)
    {
        var (root, reader) = YamlReader.Load<YamlMappingNode>(path, Error, "profile", Shape);
        return FromYaml(root, reader, path, int8Targets);
    }

    /// <summary>Parses a profile's text; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="TargetProfileException">Not YAML/JSON, or unknown keys or bad values (the message names the line).</exception>
    public static TargetProfile Parse(string text, string source, IReadOnlyCollection<string> int8Targets)
    {
        var (root, reader) = YamlReader.Parse<YamlMappingNode>(text, source, Error, Shape);
        return FromYaml(root, reader, source, int8Targets);
    }

    private const string Shape = "a target profile is one mapping (name:, rid:, providers: …)";

    private static TargetProfileException Error(string message) => new(message);

    private static TargetProfile FromYaml(YamlMappingNode root, YamlReader reader, string source, IReadOnlyCollection<string> int8Targets)
    {
        reader.RejectUnknown(root, Keys);
        var name = reader.String(root, "name", required: true)!;
        if (!NamePattern().IsMatch(name)) reader.Fail(reader.Node(root, "name")!, $"name '{name}' must be lower-case letters, digits and dashes");
        var rid = reader.String(root, "rid", required: true)!;
        if (!TargetProfile.KnownRids.Contains(rid)) reader.Fail(reader.Node(root, "rid")!, $"rid '{rid}' is not one of {string.Join(", ", TargetProfile.KnownRids)}");
        var threads = reader.Int(root, "threads") ?? 0;
        if (threads < 0) reader.Fail(reader.Node(root, "threads")!, "threads must be 0 (ONNX Runtime chooses) or more");
        var precision = reader.String(root, "precision") ?? "fp32";
        if (precision is not ("fp32" or "fp16")) reader.Fail(reader.Node(root, "precision")!, $"precision '{precision}' is not fp32 or fp16");
        var (opsetMin, opsetMax) = Opset(reader, root);
        return new TargetProfile(name, reader.String(root, "description") ?? "", rid, threads, Providers(reader, root), Int8(reader, root, int8Targets),
            precision, opsetMin, opsetMax, source);
    }

    private static bool IsProfileFile(string path) => Path.GetExtension(path) is ".yaml" or ".yml" or ".json";

    private static List<ProviderPreference> Providers(YamlReader reader, YamlMappingNode root)
    {
        if (reader.Node(root, "providers") is not YamlSequenceNode list || list.Children.Count == 0)
        {
            reader.Fail(reader.Node(root, "providers") ?? root, "providers must list at least one execution provider, e.g. providers: [{ name: cpu }]");
            return [];
        }
        var result = new List<ProviderPreference>();
        foreach (var item in list.Children)
        {
            if (item is not YamlMappingNode map) { reader.Fail(item, "each provider is a mapping: { name: cpu, options: { … } }"); continue; }
            reader.RejectUnknown(map, ["name", "options", "optional"]);
            var name = reader.String(map, "name", required: true)!;
            if (!ExecutionProviders.TryResolve(name, out _))
            {
                reader.Fail(reader.Node(map, "name")!, $"unknown execution provider '{name}': use one of {string.Join(", ", ExecutionProviders.Known.Select(k => k.FriendlyName))}");
            }
            var options = new Dictionary<string, string>(StringComparer.Ordinal);
            if (reader.Node(map, "options") is { } optionsNode)
            {
                if (optionsNode is not YamlMappingNode optionMap) reader.Fail(optionsNode, "options is a mapping of provider option names to values");
                else
                {
                    foreach (var (key, value) in optionMap.Children)
                    {
                        if (value is not YamlScalarNode scalar) reader.Fail(value, $"provider option '{key}' needs a plain value");
                        else options[((YamlScalarNode)key).Value ?? ""] = scalar.Value ?? "";
                    }
                }
            }
            result.Add(new ProviderPreference(name, options, reader.Bool(map, "optional") ?? false));
        }
        if (result.All(p => p.Optional)) reader.Fail(list, "at least one provider must not be optional (add { name: cpu })");
        return result;
    }

    private static Int8Flavour Int8(YamlReader reader, YamlMappingNode root, IReadOnlyCollection<string> int8Targets)
    {
        if (reader.Node(root, "int8") is not { } node) return new Int8Flavour("host");
        if (node is not YamlMappingNode map) { reader.Fail(node, "int8 is a mapping: { target: arm64, format: qdq }"); return new Int8Flavour("host"); }
        reader.RejectUnknown(map, ["target", "format", "activationType"]);
        var target = reader.String(map, "target") ?? "host";
        if (target != "host" && !int8Targets.Contains(target))
        {
            reader.Fail(reader.Node(map, "target")!, $"unknown int8 target '{target}': use host, {string.Join(", ", int8Targets)}");
        }
        var format = reader.String(map, "format") ?? "qdq";
        if (format is not ("qdq" or "qoperator")) reader.Fail(reader.Node(map, "format")!, $"int8 format '{format}' is not qdq or qoperator");
        var activation = reader.String(map, "activationType");
        if (activation is not (null or "u8" or "s8")) reader.Fail(reader.Node(map, "activationType")!, $"activationType '{activation}' is not u8 or s8");
        return new Int8Flavour(target, format, activation);
    }

    private static (int Min, int Max) Opset(YamlReader reader, YamlMappingNode root)
    {
        if (reader.Node(root, "opset") is not { } node) return (7, 23);
        if (node is not YamlMappingNode map) { reader.Fail(node, "opset is a mapping: { min: 13, max: 21 }"); return (0, 0); }
        reader.RejectUnknown(map, ["min", "max"]);
        var min = reader.Int(map, "min") ?? 7;
        var max = reader.Int(map, "max") ?? 23;
        if (min < 1 || max < min) reader.Fail(map, $"opset range {min}..{max} is empty or below 1");
        return (min, max);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*$")]
    private static partial Regex NamePattern();
}
