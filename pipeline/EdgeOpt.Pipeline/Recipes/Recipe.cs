using System.Globalization;
using System.Reflection;
using EdgeOpt.Passes.Core;
using EdgeOpt.Pipeline.Optimization;
using EdgeOpt.Targets;
using YamlDotNet.RepresentationModel;

namespace EdgeOpt.Pipeline.Recipes;

/// <summary>A recipe that cannot be used: the message starts with <c>file:line:column</c> and says what to change.</summary>
public sealed class RecipeException(string message) : Exception(message);

/// <summary>One step of a recipe: a pass with its typed options (bound and validated when the recipe is read).</summary>
/// <param name="PassId">The catalog id.</param>
/// <param name="Options">The options, from the pass's defaults with the recipe's values set.</param>
/// <param name="Keep">Also write, bench and report the model as this step leaves it (an intermediate variant).</param>
/// <param name="Line">The recipe line the step is on.</param>
/// <param name="Enabled">Whether the step runs (<c>enabled: false</c>, or a sweep over <c>pass.enabled: [true, false]</c>: int8 on/off).</param>
public sealed record RecipeStep(string PassId, PassOptions Options, bool Keep, int Line, bool Enabled = true);

/// <summary>
/// One axis of a sweep: several values for one option of one pass (e.g. prune-channels.ratio: [0.3, 0.5]), or the pass on and
/// off (<c>quantize-static.enabled: [true, false]</c>: <paramref name="Enabled"/> holds the values, <paramref name="Values"/> is empty).
/// </summary>
public sealed record SweepAxis(string PassId, string Option, IReadOnlyList<PassOptions> Values, IReadOnlyList<string> Labels, IReadOnlyList<bool>? Enabled = null);

/// <summary>Timing settings of a run.</summary>
public sealed record RecipeBench(int Runs = 50, int Warmup = 5, int Rounds = 3);

/// <summary>
/// A recipe (YAML, JSON also accepted): the model, the passes in order with typed options, the calibration and evaluation data,
/// the fidelity target, the targets to benchmark on, and optional sweeps. Paths are relative to the recipe's folder. Unknown keys
/// and bad values are errors that name the line. Example:
/// <code>
/// model: ../artifacts/models/ppocrv4_det.onnx
/// data: { calibration: data/det-pages, eval: data/det-pages, imagePreprocess: "resize=320x320,scale=1/255,…" }
/// fidelity: { cosine: 0.98 }
/// passes:
///   - cleanup
///   - prune-channels: { ratio: 0.3, keep: true }
///   - quantize-static: { format: Qdq }
/// targets: [x64-cpu]
/// bench: { runs: 50, warmup: 5, rounds: 3 }
/// sweep: { prune-channels.ratio: [0.2, 0.3] }
/// </code>
/// </summary>
public sealed record Recipe(
    string Source,
    string Model,
    string? CalibrationData,
    string? EvalData,
    string? ImagePreprocess,
    AccuracyTarget? Fidelity,
    IReadOnlyList<RecipeStep> Steps,
    IReadOnlyList<string> Targets,
    RecipeBench Bench,
    IReadOnlyList<SweepAxis> Sweep)
{
    private static readonly string[] Keys = ["model", "data", "fidelity", "passes", "targets", "bench", "sweep"];

    /// <summary>The recipe's variants: one per combination of sweep values (one when there is no sweep), each with its steps and a label.</summary>
    public IReadOnlyList<(string Label, IReadOnlyList<RecipeStep> Steps)> Variants()
    {
        var combos = new List<(string Label, IReadOnlyList<RecipeStep> Steps)> { ("", Steps) };
        foreach (var axis in Sweep)
        {
            combos = [.. combos.SelectMany(c => Enumerable.Range(0, axis.Labels.Count).Select(i => (
                Label: (c.Label.Length > 0 ? c.Label + "," : "") + $"{axis.PassId}.{axis.Option}={axis.Labels[i]}",
                Steps: (IReadOnlyList<RecipeStep>)[.. c.Steps.Select(s => s.PassId != axis.PassId ? s
                    : axis.Enabled is { } on ? s with { Enabled = on[i] }
                    : s with { Options = Merge(s.Options, axis.Values[i], axis.Option) })])))];
        }
        return combos;
    }

    private static PassOptions Merge(PassOptions into, PassOptions from, string option)
    {
        var clone = CopyOf(into);
        var property = into.GetType().GetProperty(option, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)!;
        property.SetValue(clone, property.GetValue(from));
        return clone;
    }

    /// <summary>Reads and checks a recipe: every pass id known, every option bound to its type and validated, data given where a pass needs it.</summary>
    /// <exception cref="RecipeException">The file is missing or malformed; the message names the line.</exception>
    public static Recipe Load(string path, PassCatalog catalog)
    {
        var full = Path.GetFullPath(path);
        var (root, r) = YamlReader.Load<YamlMappingNode>(full, m => new RecipeException(m), "recipe", "a recipe is one mapping (model:, passes:, …)");
        r.RejectUnknown(root, Keys);
        var folder = Path.GetDirectoryName(full)!;
        string Resolve(string p) => Path.GetFullPath(Path.Combine(folder, p));

        var model = Resolve(r.String(root, "model", required: true)!);
        if (!File.Exists(model)) r.Fail(r.Node(root, "model")!, $"the model '{model}' does not exist");

        string? calibration = null, eval = null, images = null;
        if (r.Node(root, "data") is { } dataNode)
        {
            if (dataNode is not YamlMappingNode data) { r.Fail(dataNode, "data is a mapping: { calibration: DIR, eval: DIR, imagePreprocess: SPEC }"); throw null!; }
            r.RejectUnknown(data, ["calibration", "eval", "imagePreprocess"]);
            calibration = r.String(data, "calibration") is { } c ? Resolve(c) : null;
            eval = r.String(data, "eval") is { } ev ? Resolve(ev) : null;
            images = r.String(data, "imagePreprocess");
            foreach (var (key, dir) in new[] { ("calibration", calibration), ("eval", eval) })
            {
                if (dir != null && !Directory.Exists(dir)) r.Fail(r.Node(data, key)!, $"the {key} data folder '{dir}' does not exist");
            }
            if (images != null)
            {
                try
                {
                    Data.Images.ImagePreprocess.Parse(images);
                }
                catch (ArgumentException e)
                {
                    r.Fail(r.Node(data, "imagePreprocess")!, e.Message);
                }
            }
        }

        AccuracyTarget? fidelity = null;
        if (r.Node(root, "fidelity") is { } fidelityNode)
        {
            if (fidelityNode is not YamlMappingNode f || f.Children.Count != 1) { r.Fail(fidelityNode, "fidelity names one bound: { cosine: 0.98 } or { top1: 0.99 }"); throw null!; }
            var (key, value) = f.Children.First();
            try
            {
                fidelity = AccuracyTarget.Parse($"{((YamlScalarNode)key).Value}={(value as YamlScalarNode)?.Value}");
            }
            catch (ArgumentException e)
            {
                r.Fail(key, e.Message.Replace("--accuracy-target", "fidelity", StringComparison.Ordinal));
            }
        }

        var steps = ReadSteps(r, root, catalog);
        if (steps.Any(s => s.PassId == Passes.Quantization.QuantizeStaticPass.PassId) && calibration == null)
        {
            r.Fail(r.Node(root, "passes")!, "quantize-static needs calibration data: add data: { calibration: DIR }");
        }

        var targets = new List<string>();
        if (r.Node(root, "targets") is { } targetsNode)
        {
            if (targetsNode is not YamlSequenceNode list) { r.Fail(targetsNode, "targets is a list of target profiles: [x64-cpu, rpi4]"); throw null!; }
            foreach (var t in list.Children)
            {
                if (t is not YamlScalarNode { Value: { Length: > 0 } name }) { r.Fail(t, "each target is a profile name or file"); throw null!; }
                targets.Add(File.Exists(Resolve(name)) ? Resolve(name) : name);
            }
        }
        if (targets.Count == 0) targets.Add("x64-cpu");

        var bench = new RecipeBench();
        if (r.Node(root, "bench") is { } benchNode)
        {
            if (benchNode is not YamlMappingNode b) { r.Fail(benchNode, "bench is a mapping: { runs: 50, warmup: 5, rounds: 3 }"); throw null!; }
            r.RejectUnknown(b, ["runs", "warmup", "rounds"]);
            bench = new RecipeBench(r.Int(b, "runs") ?? bench.Runs, r.Int(b, "warmup") ?? bench.Warmup, r.Int(b, "rounds") ?? bench.Rounds);
            if (bench.Runs < 1 || bench.Warmup < 0 || bench.Rounds < 1) r.Fail(b, "bench needs runs ≥ 1, warmup ≥ 0, rounds ≥ 1");
        }

        return new Recipe(full, model, calibration, eval ?? calibration, images, fidelity, steps, targets, bench, ReadSweep(r, root, steps, catalog));
    }

    private static List<RecipeStep> ReadSteps(YamlReader r, YamlMappingNode root, PassCatalog catalog)
    {
        if (r.Node(root, "passes") is not YamlSequenceNode list || list.Children.Count == 0)
        {
            r.Fail(r.Node(root, "passes") ?? root, "passes lists the passes in order, e.g. [cleanup, { prune-channels: { ratio: 0.3 } }, quantize-static]");
            throw null!;
        }
        var steps = new List<RecipeStep>();
        foreach (var item in list.Children)
        {
            var (id, options) = item switch
            {
                YamlScalarNode s => (s.Value ?? "", (YamlMappingNode?)null),
                YamlMappingNode { Children.Count: 1 } m => (((YamlScalarNode)m.Children.First().Key).Value ?? "", m.Children.First().Value as YamlMappingNode),
                _ => ("", null),
            };
            if (id.Length == 0) r.Fail(item, "each pass is a name or { name: { option: value, … } }");
            if (id == "cleanup")
            {
                steps.AddRange(PassCatalog.CleanupSequence.Select(c => new RecipeStep(c, catalog.Get(c).DefaultOptions, false, (int)item.Start.Line)));
                continue;
            }
            PassDescriptor descriptor;
            try
            {
                descriptor = catalog.Get(id);
            }
            catch (ArgumentException)
            {
                r.Fail(item, $"unknown pass '{id}': the passes are cleanup, {string.Join(", ", catalog.Passes.Select(p => p.Id))}");
                throw null!;
            }
            var keep = false;
            var enabled = true;
            var bound = CopyOf(descriptor.DefaultOptions);
            if (item is YamlMappingNode m2 && m2.Children.First().Value is { } value && value is not YamlMappingNode && !(value is YamlScalarNode { Value: null or "" }))
            {
                r.Fail(value, $"the options of {id} are a mapping: {{ option: value }}");
            }
            foreach (var (keyNode, valueNode) in options?.Children ?? Enumerable.Empty<KeyValuePair<YamlNode, YamlNode>>())
            {
                var key = ((YamlScalarNode)keyNode).Value ?? "";
                if (key == "keep") { keep = r.Bool(options!, "keep") ?? false; continue; }
                if (key == "enabled") { enabled = r.Bool(options!, "enabled") ?? true; continue; }
                Bind(r, bound, descriptor, key, keyNode, valueNode);
            }
            if (bound.Validate().FirstOrDefault() is { } problem) r.Fail(item, $"{id}: {problem}");
            steps.Add(new RecipeStep(id, bound, keep, (int)item.Start.Line, enabled));
        }
        return steps;
    }

    private static List<SweepAxis> ReadSweep(YamlReader r, YamlMappingNode root, List<RecipeStep> steps, PassCatalog catalog)
    {
        var axes = new List<SweepAxis>();
        if (r.Node(root, "sweep") is not { } node) return axes;
        if (node is not YamlMappingNode map) { r.Fail(node, "sweep maps pass.option to a list of values: { prune-channels.ratio: [0.3, 0.5] }"); throw null!; }
        foreach (var (keyNode, valuesNode) in map.Children)
        {
            var key = ((YamlScalarNode)keyNode).Value ?? "";
            var dot = key.LastIndexOf('.');
            var (id, option) = dot > 0 ? (key[..dot], key[(dot + 1)..]) : ("", "");
            var step = steps.FirstOrDefault(s => s.PassId == id);
            if (step == null) { r.Fail(keyNode, $"sweep '{key}': write pass.option for a pass in passes (e.g. prune-channels.ratio)"); throw null!; }
            if (valuesNode is not YamlSequenceNode values || values.Children.Count == 0) { r.Fail(valuesNode, $"sweep '{key}' needs a list of values"); throw null!; }
            if (option == "enabled")
            {
                var flags = values.Children.Select(v => v is YamlScalarNode { Value: "true" } ? true : v is YamlScalarNode { Value: "false" } ? false
                    : throw new RecipeException($"{r.Source}:{v.Start.Line}:{v.Start.Column}: {key} takes true or false")).ToList();
                axes.Add(new SweepAxis(id, option, [], [.. flags.Select(f => f ? "on" : "off")], flags));
                continue;
            }
            var descriptor = catalog.Get(id);
            var bound = new List<PassOptions>();
            foreach (var v in values.Children)
            {
                var options = CopyOf(step.Options);
                Bind(r, options, descriptor, option, keyNode, v);
                if (options.Validate().FirstOrDefault() is { } problem) r.Fail(v, $"{key}: {problem}");
                bound.Add(options);
            }
            axes.Add(new SweepAxis(id, option, bound, [.. values.Children.Select(v => (v as YamlScalarNode)?.Value ?? v.ToString())]));
        }
        return axes;
    }

    /// <summary>Sets option <paramref name="key"/> of <paramref name="options"/> from a YAML value, converted to the property's type.</summary>
    private static void Bind(YamlReader r, PassOptions options, PassDescriptor descriptor, string key, YamlNode keyNode, YamlNode value)
    {
        var property = descriptor.OptionsType.GetProperty(key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property?.GetCustomAttribute<OptionAttribute>() == null || !property.CanWrite)
        {
            var names = descriptor.OptionsType.GetProperties().Where(p => p.GetCustomAttribute<OptionAttribute>() != null).Select(p => char.ToLowerInvariant(p.Name[0]) + p.Name[1..]);
            r.Fail(keyNode, $"{descriptor.Id} has no option '{key}': its options are {string.Join(", ", names)} (see `edgeopt passes`)");
            return;
        }
        try
        {
            property.SetValue(options, Convert(value, property.PropertyType));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or InvalidCastException)
        {
            r.Fail(value, $"{descriptor.Id}.{key}: {e.Message}");
        }
    }

    private static object? Convert(YamlNode node, Type type)
    {
        string Scalar() => node is YamlScalarNode { Value: { } v } ? v : throw new FormatException($"expected a single value, not a {node.NodeType}");
        var inv = CultureInfo.InvariantCulture;
        if (type == typeof(string)) return Scalar();
        if (type == typeof(bool)) return Scalar() switch { "true" => true, "false" => false, var v => throw new FormatException($"'{v}' is not true or false") };
        if (type == typeof(int)) return int.Parse(Scalar(), NumberStyles.Integer, inv);
        if (type == typeof(long)) return long.Parse(Scalar(), NumberStyles.Integer, inv);
        if (type == typeof(double)) return double.Parse(Scalar(), NumberStyles.Float, inv);
        if (type == typeof(float)) return float.Parse(Scalar(), NumberStyles.Float, inv);
        if (type.IsEnum)
        {
            var text = Scalar();
            return Enum.GetNames(type).FirstOrDefault(n => n.Equals(text.Replace("-", ""), StringComparison.OrdinalIgnoreCase)) is { } name
                ? Enum.Parse(type, name)
                : throw new FormatException($"'{text}' is not one of {string.Join(", ", Enum.GetNames(type))}");
        }
        if (type == typeof(IReadOnlyList<string>))
        {
            return node is YamlSequenceNode seq
                ? seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? throw new FormatException("expected a list of names")).ToList()
                : Scalar().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        }
        if (type == typeof(IReadOnlyDictionary<string, double>))
        {
            if (node is not YamlMappingNode map) throw new FormatException("expected a mapping of node names to numbers");
            return map.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => double.Parse(((YamlScalarNode)p.Value).Value!, NumberStyles.Float, inv), StringComparer.Ordinal);
        }
        if (type == typeof(IReadOnlyDictionary<string, long[]>))
        {
            if (node is not YamlMappingNode map) throw new FormatException("expected a mapping of input names to shapes (1x3x224x224)");
            return map.Children.ToDictionary(p => ((YamlScalarNode)p.Key).Value!,
                p => ((YamlScalarNode)p.Value).Value!.Split('x').Select(d => long.Parse(d, NumberStyles.Integer, inv)).ToArray(), StringComparer.Ordinal);
        }
        throw new FormatException($"options of type {type.Name} cannot be set in a recipe");
    }

    /// <summary>A copy of an options record (its compiler-made Clone method), so bound values never touch the catalog's defaults.</summary>
    private static PassOptions CopyOf(PassOptions options) =>
        (PassOptions)options.GetType().GetMethod("<Clone>$", BindingFlags.Public | BindingFlags.Instance)!.Invoke(options, null)!;
}
