using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Pruning;

/// <summary>
/// Operator names, input positions and attributes the pruning passes read, beyond those of <see cref="OpTypes"/>,
/// and the op families that carry channels through unchanged.
/// </summary>
internal static class PruneOps
{
    public const string Abs = "Abs";
    public const string Ceil = "Ceil";
    public const string Floor = "Floor";
    public const string GlobalLpPool = "GlobalLpPool";
    public const string LpPool = "LpPool";
    public const string Mean = "Mean";
    public const string Mish = "Mish";
    public const string Reciprocal = "Reciprocal";
    public const string Round = "Round";
    public const string Selu = "Selu";
    public const string Sign = "Sign";
    public const string Softplus = "Softplus";
    public const string Softsign = "Softsign";
    public const string Sum = "Sum";

    /// <summary>Ops whose weight (input 1) can be pruned.</summary>
    public static readonly IReadOnlySet<string> WeightedOps = new HashSet<string>(StringComparer.Ordinal)
    {
        OpTypes.Conv, OpTypes.ConvTranspose, OpTypes.Gemm, OpTypes.MatMul,
    };

    /// <summary>Element-wise ops of one data input (input 0) whose output keeps the input's layout; other inputs are scalars or absent.</summary>
    public static readonly IReadOnlySet<string> Unary = new HashSet<string>(StringComparer.Ordinal)
    {
        OpTypes.Relu, OpTypes.Clip, OpTypes.Sigmoid, OpTypes.HardSigmoid, OpTypes.HardSwish, OpTypes.LeakyRelu, OpTypes.Elu, Selu,
        OpTypes.Tanh, Softplus, Softsign, Mish, OpTypes.Gelu, OpTypes.Erf, OpTypes.Exp, OpTypes.Log, OpTypes.Sqrt, OpTypes.Neg, Abs,
        Reciprocal, Floor, Ceil, Round, Sign, OpTypes.Identity, OpTypes.Dropout, OpTypes.Cast,
    };

    /// <summary>Pools that keep the channel axis (1) and pool the spatial axes.</summary>
    public static readonly IReadOnlySet<string> Pools = new HashSet<string>(StringComparer.Ordinal)
    {
        OpTypes.MaxPool, OpTypes.AveragePool, LpPool, OpTypes.GlobalAveragePool, OpTypes.GlobalMaxPool, GlobalLpPool,
    };

    /// <summary>Reductions with an axes list (attribute, or input 1 in newer opsets) and keepdims.</summary>
    public static readonly IReadOnlySet<string> Reductions = new HashSet<string>(StringComparer.Ordinal)
    {
        OpTypes.ReduceMean, "ReduceMax", "ReduceMin", "ReduceSum", "ReduceL1", "ReduceL2", "ReduceProd", "ReduceLogSumExp",
    };

    /// <summary>Element-wise ops of two or more inputs with numpy broadcasting.</summary>
    public static readonly IReadOnlySet<string> Elementwise = new HashSet<string>(StringComparer.Ordinal)
    {
        OpTypes.Add, OpTypes.Sub, OpTypes.Mul, OpTypes.Div, OpTypes.Max, OpTypes.Min, Sum, Mean, OpTypes.Pow, OpTypes.PRelu,
    };
}

/// <summary>Input positions of Pad (opset 11+: pads, constant_value and axes are inputs).</summary>
internal static class PadInput
{
    public const int Data = 0, Pads = 1, ConstantValue = 2, Axes = 3;
}

/// <summary>Input positions of Resize (opset 11+) and, for X and scales, of Resize 10 and Upsample.</summary>
internal static class ResizeInput
{
    public const int X = 0, Roi = 1, Scales = 2, Sizes = 3;

    /// <summary>Where the scales are in Resize 10 and Upsample 9.</summary>
    public const int ScalesBefore11 = 1;
}

/// <summary>Input positions of InstanceNormalization.</summary>
internal static class InstanceNormInput
{
    public const int X = 0, Scale = 1, Bias = 2;
}

/// <summary>Attribute names the pruning passes read.</summary>
internal static class PruneAttrs
{
    public const string Scales = "scales";
    public const string KeepDims = "keepdims";
}
