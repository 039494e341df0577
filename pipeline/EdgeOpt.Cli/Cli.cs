using EdgeOpt.Onnx.Validation;
using EdgeOpt.Passes.Core;

namespace EdgeOpt.Cli;

/// <summary>Maps failures to exit codes with a message on stderr; never swallows an error into exit 0.</summary>
public static class Cli
{
    public static TextWriter Error { get; set; } = Console.Error;

    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CliException e)
        {
            return Fail(e.ExitCode, e.Message);
        }
        catch (OnnxModelException e)
        {
            return Fail(ExitCodes.BadModel, e.Message);
        }
        catch (PassFailedException e)
        {
            return Fail(ExitCodes.Internal, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(ExitCodes.Usage, e.Message);
        }
        catch (ArgumentException e)
        {
            return Fail(ExitCodes.Usage, e.Message);
        }
    }

    /// <summary>Runs <paramref name="f"/>, turning an <see cref="ArgumentException"/> into a usage error.</summary>
    public static T Usage<T>(Func<T> f)
    {
        try
        {
            return f();
        }
        catch (ArgumentException e)
        {
            throw new CliException(ExitCodes.Usage, e.Message);
        }
    }

    private static int Fail(int code, string message)
    {
        Error.WriteLine($"edgeopt: error: {message}");
        return code;
    }
}
