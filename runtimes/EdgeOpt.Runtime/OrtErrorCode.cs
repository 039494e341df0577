namespace EdgeOpt.Runtime;

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c>), carried by <see cref="OrtException"/>.</summary>
public enum OrtErrorCode
{
    /// <summary>Success (never thrown).</summary>
    Ok = 0,

    /// <summary>Generic failure.</summary>
    Fail = 1,

    /// <summary>A bad argument: name, shape, type or option.</summary>
    InvalidArgument = 2,

    /// <summary>A file was not found.</summary>
    NoSuchFile = 3,

    /// <summary>No model loaded.</summary>
    NoModel = 4,

    /// <summary>An internal engine error.</summary>
    EngineError = 5,

    /// <summary>A runtime error while running.</summary>
    RuntimeException = 6,

    /// <summary>The model is not a valid ONNX protobuf.</summary>
    InvalidProtobuf = 7,

    /// <summary>A model was already loaded.</summary>
    ModelLoaded = 8,

    /// <summary>Not implemented (e.g. an operator or type the build lacks).</summary>
    NotImplemented = 9,

    /// <summary>The graph is invalid.</summary>
    InvalidGraph = 10,

    /// <summary>An execution provider failed.</summary>
    EpFail = 11,

    /// <summary>Loading the model was canceled.</summary>
    ModelLoadCanceled = 12,

    /// <summary>The model must be compiled for its execution provider first.</summary>
    ModelRequiresCompilation = 13,
}
