using System.CommandLine;
using EdgeOpt.Pipeline.Execution;

namespace EdgeOpt.Cli;

/// <summary>The options every command that runs a model shares: library, provider options, threads, optimization level.</summary>
public sealed class RuntimeCliOptions
{
    public Option<string?> OrtLib { get; } = new("--ort-lib")
    {
        Description = "ONNX Runtime library file or folder to load (any build: GPU, Jetson); default: artifacts/onnxruntime/<rid>, then the system loader",
    };

    public Option<string[]> EpOptions { get; } = new("--ep-option")
    {
        Description = "Execution provider option KEY=VALUE (e.g. device_id=0, trt_fp16_enable=1); repeat per option",
    };

    public Option<int> Threads { get; } = new("--threads")
    {
        Description = "Intra-op threads per session; 0 lets ONNX Runtime choose (one per physical core)",
        DefaultValueFactory = _ => 0,
    };

    public Option<string> OptimizationLevel { get; } = new("--optimization-level")
    {
        Description = "ONNX Runtime graph optimizations: disabled, basic, extended or all",
        DefaultValueFactory = _ => "all",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(OrtLib);
        command.Options.Add(EpOptions);
        command.Options.Add(Threads);
        command.Options.Add(OptimizationLevel);
    }

    /// <summary>Settings for one execution provider (null: CPU).</summary>
    public RuntimeSettings Settings(ParseResult parse, string? ep)
    {
        var threads = parse.GetValue(Threads);
        if (threads < 0) throw new CliException(ExitCodes.Usage, "--threads must be zero (ONNX Runtime's choice) or more");
        var level = Cli.Usage(() => RuntimeSettings.ParseOptimizationLevel(parse.GetValue(OptimizationLevel) ?? "all"));
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in parse.GetValue(EpOptions) ?? [])
        {
            var eq = spec.IndexOf('=');
            if (eq <= 0) throw new CliException(ExitCodes.Usage, $"--ep-option '{spec}' is not KEY=VALUE; write it like device_id=0");
            options[spec[..eq]] = spec[(eq + 1)..];
        }
        return new RuntimeSettings(parse.GetValue(OrtLib), ep, options.Count > 0 ? options : null, threads, level);
    }
}
