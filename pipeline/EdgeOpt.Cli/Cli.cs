using EdgeOpt.Onnx.Validation;
using EdgeOpt.Passes.Core;
using EdgeOpt.Runtime;

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
        catch (OrtLibraryException e)
        {
            return Fail(ExitCodes.Runtime, e.Message);
        }
        catch (ExecutionProviderException e)
        {
            return Fail(ExitCodes.Runtime, e.Message);
        }
        catch (OrtException e)
        {
            return Fail(ExitCodeOf(e), e.Message);
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

    /// <summary>A model ONNX Runtime cannot parse or whose graph it rejects is a bad model; bad inputs are usage; the rest is the runtime's.</summary>
    public static int ExitCodeOf(OrtException e) => e.Code switch
    {
        OrtErrorCode.InvalidProtobuf or OrtErrorCode.InvalidGraph or OrtErrorCode.NoModel => ExitCodes.BadModel,
        OrtErrorCode.InvalidArgument => ExitCodes.Usage,
        _ => ExitCodes.Runtime,
    };

    private static int Fail(int code, string message)
    {
        Error.WriteLine($"edgeopt: error: {message}");
        return code;
    }
}
