namespace EdgeOpt.Runtime;

/// <summary>A call into ONNX Runtime failed: its error code and message, as ONNX Runtime reported them.</summary>
public class OrtException : Exception
{
    /// <summary>An error with ONNX Runtime's <paramref name="code"/> and <paramref name="message"/>.</summary>
    public OrtException(OrtErrorCode code, string message)
        : base($"ONNX Runtime error {code}: {message}")
    {
        Code = code;
        NativeMessage = message;
    }

    /// <summary>The code ONNX Runtime returned.</summary>
    public OrtErrorCode Code { get; }

    /// <summary>ONNX Runtime's own message, without the code prefix.</summary>
    public string NativeMessage { get; }
}
