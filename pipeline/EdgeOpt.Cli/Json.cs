using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeOpt.Onnx.IO;

namespace EdgeOpt.Cli;

/// <summary>JSON output: camelCase, indented, written atomically when it goes to a file.</summary>
public static class Json
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static void WriteFile<T>(string path, T value) =>
        AtomicFile.Write(path, s => JsonSerializer.Serialize(s, value, Options));
}
