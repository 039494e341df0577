namespace EdgeOpt.Onnx.Ir;

/// <summary>Operator type names used by EdgeOpt's analyses and passes.</summary>
public static class OpTypes
{
    public const string Add = "Add";
    public const string AveragePool = "AveragePool";
    public const string BatchNormalization = "BatchNormalization";
    public const string Cast = "Cast";
    public const string Clip = "Clip";
    public const string Concat = "Concat";
    public const string Constant = "Constant";
    public const string ConstantOfShape = "ConstantOfShape";
    public const string Conv = "Conv";
    public const string ConvTranspose = "ConvTranspose";
    public const string Div = "Div";
    public const string Dropout = "Dropout";
    public const string Elu = "Elu";
    public const string Equal = "Equal";
    public const string Erf = "Erf";
    public const string Exp = "Exp";
    public const string Expand = "Expand";
    public const string Flatten = "Flatten";
    public const string Gather = "Gather";
    public const string Gelu = "Gelu";
    public const string Gemm = "Gemm";
    public const string GlobalAveragePool = "GlobalAveragePool";
    public const string GlobalMaxPool = "GlobalMaxPool";
    public const string HardSigmoid = "HardSigmoid";
    public const string HardSwish = "HardSwish";
    public const string Identity = "Identity";
    public const string If = "If";
    public const string InstanceNormalization = "InstanceNormalization";
    public const string LayerNormalization = "LayerNormalization";
    public const string LeakyRelu = "LeakyRelu";
    public const string Log = "Log";
    public const string Loop = "Loop";
    public const string LRN = "LRN";
    public const string LSTM = "LSTM";
    public const string GRU = "GRU";
    public const string MatMul = "MatMul";
    public const string Max = "Max";
    public const string MaxPool = "MaxPool";
    public const string Min = "Min";
    public const string Mul = "Mul";
    public const string Neg = "Neg";
    public const string Pad = "Pad";
    public const string Pow = "Pow";
    public const string PRelu = "PRelu";
    public const string ReduceMean = "ReduceMean";
    public const string Relu = "Relu";
    public const string Reshape = "Reshape";
    public const string Resize = "Resize";
    public const string Scan = "Scan";
    public const string Shape = "Shape";
    public const string Sigmoid = "Sigmoid";
    public const string Slice = "Slice";
    public const string Softmax = "Softmax";
    public const string Split = "Split";
    public const string Sqrt = "Sqrt";
    public const string Squeeze = "Squeeze";
    public const string Sub = "Sub";
    public const string Tanh = "Tanh";
    public const string Transpose = "Transpose";
    public const string Unsqueeze = "Unsqueeze";
    public const string Upsample = "Upsample";
}

/// <summary>Attribute names shared by several operators.</summary>
public static class AttrNames
{
    public const string Axis = "axis";
    public const string Axes = "axes";
    public const string Perm = "perm";
    public const string Value = "value";
    public const string Epsilon = "epsilon";
    public const string Group = "group";
    public const string KernelShape = "kernel_shape";
    public const string Strides = "strides";
    public const string Pads = "pads";
    public const string Dilations = "dilations";
    public const string AutoPad = "auto_pad";
    public const string OutputPadding = "output_padding";
    public const string OutputShape = "output_shape";
    public const string TransA = "transA";
    public const string TransB = "transB";
    public const string Alpha = "alpha";
    public const string Beta = "beta";
    public const string AllowZero = "allowzero";
    public const string Min = "min";
    public const string Max = "max";
    public const string CeilMode = "ceil_mode";
    public const string TrainingMode = "training_mode";
    public const string IsTest = "is_test";
    public const string Spatial = "spatial";
}

/// <summary>Input positions of Conv and ConvTranspose.</summary>
public static class ConvInput
{
    public const int X = 0, W = 1, B = 2;
}

/// <summary>Input positions of Gemm.</summary>
public static class GemmInput
{
    public const int A = 0, B = 1, C = 2;
}

/// <summary>Input positions of BatchNormalization.</summary>
public static class BatchNormInput
{
    public const int X = 0, Scale = 1, Bias = 2, Mean = 3, Var = 4;
}

/// <summary>Input positions of Dropout (opset 12+: ratio and training_mode are inputs).</summary>
public static class DropoutInput
{
    public const int Data = 0, Ratio = 1, TrainingMode = 2;
}

/// <summary>Output positions of Dropout.</summary>
public static class DropoutOutput
{
    public const int Output = 0, Mask = 1;
}

/// <summary>Input positions of Reshape (opset 5+: the shape is an input).</summary>
public static class ReshapeInput
{
    public const int Data = 0, Shape = 1;
}

/// <summary>Input positions of Squeeze and Unsqueeze (opset 13+: the axes are an input).</summary>
public static class SqueezeInput
{
    public const int Data = 0, Axes = 1;
}
