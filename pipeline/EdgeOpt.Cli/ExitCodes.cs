namespace EdgeOpt.Cli;

/// <summary>The exit codes of the edgeopt command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Usage = 1;
    public const int BadModel = 2;
    public const int Runtime = 3;
    public const int FidelityFailed = 4;

    /// <summary>An internal error (a bug): the message and stack trace are printed.</summary>
    public const int Internal = 70;
}

/// <summary>A failure the user can act on, with the exit code it maps to.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
