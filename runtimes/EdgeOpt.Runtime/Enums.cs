namespace EdgeOpt.Runtime;

/// <summary>Element types of tensors, numbered as ONNX's <c>TensorProto.DataType</c> (and ONNX Runtime's element types).</summary>
public enum OnnxElementType
{
    /// <summary>Not set.</summary>
    Undefined = 0,

    /// <summary>32-bit float (<see cref="float"/>).</summary>
    Float = 1,

    /// <summary><see cref="byte"/>.</summary>
    UInt8 = 2,

    /// <summary><see cref="sbyte"/>.</summary>
    Int8 = 3,

    /// <summary><see cref="ushort"/>.</summary>
    UInt16 = 4,

    /// <summary><see cref="short"/>.</summary>
    Int16 = 5,

    /// <summary><see cref="int"/>.</summary>
    Int32 = 6,

    /// <summary><see cref="long"/>.</summary>
    Int64 = 7,

    /// <summary>UTF-8 string.</summary>
    String = 8,

    /// <summary><see cref="bool"/> (one byte).</summary>
    Bool = 9,

    /// <summary>IEEE half (<see cref="Half"/>).</summary>
    Float16 = 10,

    /// <summary><see cref="double"/>.</summary>
    Double = 11,

    /// <summary><see cref="uint"/>.</summary>
    UInt32 = 12,

    /// <summary><see cref="ulong"/>.</summary>
    UInt64 = 13,

    /// <summary>Two floats.</summary>
    Complex64 = 14,

    /// <summary>Two doubles.</summary>
    Complex128 = 15,

    /// <summary>bfloat16 (raw bytes).</summary>
    BFloat16 = 16,

    /// <summary>8-bit float E4M3FN (raw bytes).</summary>
    Float8E4M3FN = 17,

    /// <summary>8-bit float E4M3FNUZ (raw bytes).</summary>
    Float8E4M3FNUZ = 18,

    /// <summary>8-bit float E5M2 (raw bytes).</summary>
    Float8E5M2 = 19,

    /// <summary>8-bit float E5M2FNUZ (raw bytes).</summary>
    Float8E5M2FNUZ = 20,

    /// <summary>Packed unsigned 4-bit (raw bytes).</summary>
    UInt4 = 21,

    /// <summary>Packed signed 4-bit (raw bytes).</summary>
    Int4 = 22,

    /// <summary>Packed 4-bit float (raw bytes).</summary>
    Float4E2M1 = 23,

    /// <summary>8-bit exponent-only float (raw bytes).</summary>
    Float8E8M0 = 24,

    /// <summary>Packed unsigned 2-bit (raw bytes).</summary>
    UInt2 = 25,

    /// <summary>Packed signed 2-bit (raw bytes).</summary>
    Int2 = 26,
}

/// <summary>What an ONNX value is (ONNX Runtime's <c>ONNXType</c>).</summary>
public enum OnnxValueKind
{
    /// <summary>Not known.</summary>
    Unknown = 0,

    /// <summary>A dense tensor.</summary>
    Tensor = 1,

    /// <summary>A sequence of values.</summary>
    Sequence = 2,

    /// <summary>A map.</summary>
    Map = 3,

    /// <summary>An opaque, domain-specific value.</summary>
    Opaque = 4,

    /// <summary>A sparse tensor.</summary>
    SparseTensor = 5,

    /// <summary>An optional value.</summary>
    Optional = 6,
}

/// <summary>ONNX Runtime's log severities; messages below the chosen level are dropped.</summary>
public enum OrtLoggingLevel
{
    /// <summary>Everything.</summary>
    Verbose = 0,

    /// <summary>Informational messages and above.</summary>
    Info = 1,

    /// <summary>Warnings and above (ONNX Runtime's default).</summary>
    Warning = 2,

    /// <summary>Errors and above.</summary>
    Error = 3,

    /// <summary>Fatal errors only.</summary>
    Fatal = 4,
}

/// <summary>How much ONNX Runtime rewrites the graph when a session is created.</summary>
public enum GraphOptimizationLevel
{
    /// <summary>No graph rewrites: the session runs the model as written.</summary>
    Disabled = 0,

    /// <summary>Semantics-preserving cleanups (constant folding, redundant node elimination).</summary>
    Basic = 1,

    /// <summary>Basic plus node fusions.</summary>
    Extended = 2,

    /// <summary>Everything, including layout optimizations.</summary>
    All = 99,
}

/// <summary>Whether a session runs independent nodes one at a time or in parallel.</summary>
public enum ExecutionMode
{
    /// <summary>One node at a time.</summary>
    Sequential = 0,

    /// <summary>Independent nodes at once, on the inter-op threads.</summary>
    Parallel = 1,
}
