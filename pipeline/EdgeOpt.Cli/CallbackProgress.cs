using Spectre.Console;

namespace EdgeOpt.Cli;

/// <summary>An <see cref="IProgress{T}"/> that calls back on the reporting thread (System.Progress would post to the thread pool).</summary>
public sealed class CallbackProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>Live progress bars on a terminal; nothing when output goes to a file or pipe.</summary>
public static class LiveProgress
{
    public static bool Interactive => AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected && !Console.IsErrorRedirected;

    /// <summary>Runs <paramref name="body"/> with a progress display when interactive (the body adds its tasks), else without.</summary>
    public static T Run<T>(Func<ProgressContext?, T> body)
    {
        if (!Interactive) return body(null);
        return AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx => body(ctx));
    }
}
