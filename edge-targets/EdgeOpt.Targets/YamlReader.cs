using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace EdgeOpt.Targets;

/// <summary>Typed access to YAML mapping entries (YamlDotNet's representation model), failing with <c>file:line:column: message</c> through <c>error</c>.</summary>
public sealed class YamlReader(string source, Func<string, Exception> error)
{
    /// <summary>The file (or label) messages name.</summary>
    public string Source => source;

    /// <summary>
    /// Parses <paramref name="text"/> (YAML or JSON) as one document whose root is a <typeparamref name="TRoot"/>; anything else
    /// is an error through <paramref name="error"/> naming <paramref name="source"/> and the position, with <paramref name="shape"/>
    /// saying what the root should be. Returns the root and a reader for it.
    /// </summary>
    public static (TRoot Root, YamlReader Reader) Parse<TRoot>(string text, string source, Func<string, Exception> error, string shape) where TRoot : YamlNode
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw error($"{source}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}");
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not TRoot root) throw error($"{source}:1:1: {shape}");
        return (root, new YamlReader(source, error));
    }

    /// <summary>Reads the file at <paramref name="path"/> and <see cref="Parse{TRoot}"/>s it; an unreadable file is an error naming <paramref name="what"/>.</summary>
    public static (TRoot Root, YamlReader Reader) Load<TRoot>(string path, Func<string, Exception> error, string what, string shape) where TRoot : YamlNode
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw error($"{path}: cannot read the {what}: {e.Message}");
        }
        return Parse<TRoot>(text, path, error, shape);
    }

    public YamlNode? Node(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public void RejectUnknown(YamlMappingNode map, IReadOnlyCollection<string> keys)
    {
        foreach (var key in map.Children.Keys)
        {
            var text = (key as YamlScalarNode)?.Value ?? "";
            if (!keys.Contains(text)) Fail(key, $"unknown key '{text}': the keys here are {string.Join(", ", keys)}");
        }
    }

    public string? String(YamlMappingNode map, string key, bool required = false)
    {
        var node = Node(map, key);
        if (node == null)
        {
            if (required) Fail(map, $"'{key}' is missing");
            return null;
        }
        if (node is not YamlScalarNode scalar || string.IsNullOrWhiteSpace(scalar.Value)) Fail(node, $"'{key}' needs a value");
        return ((YamlScalarNode)node).Value!.Trim();
    }

    public int? Int(YamlMappingNode map, string key)
    {
        var text = String(map, key);
        if (text == null) return null;
        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value))
        {
            Fail(Node(map, key)!, $"'{key}' must be a whole number, not '{text}'");
        }
        return value;
    }

    public bool? Bool(YamlMappingNode map, string key)
    {
        var text = String(map, key);
        return text switch
        {
            null => null,
            "true" => true,
            "false" => false,
            _ => Fail<bool?>(Node(map, key)!, $"'{key}' must be true or false, not '{text}'"),
        };
    }

    public void Fail(YamlNode node, string message) => Fail<object>(node, message);

    private T Fail<T>(YamlNode node, string message) =>
        throw error($"{source}:{node.Start.Line}:{node.Start.Column}: {message}");
}
