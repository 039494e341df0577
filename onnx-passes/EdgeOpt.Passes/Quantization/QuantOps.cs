namespace EdgeOpt.Passes.Quantization;

/// <summary>Operator types and domains the quantization passes emit (ONNX and ONNX Runtime's <c>com.microsoft</c> contrib ops).</summary>
public static class QuantOps
{
    /// <summary>ONNX Runtime's contrib operator domain.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    public const string QuantizeLinear = "QuantizeLinear";
    public const string DequantizeLinear = "DequantizeLinear";
    public const string DynamicQuantizeLinear = "DynamicQuantizeLinear";
    public const string MatMulInteger = "MatMulInteger";
    public const string ConvInteger = "ConvInteger";
    public const string QLinearConv = "QLinearConv";
    public const string QLinearMatMul = "QLinearMatMul";

    /// <summary>com.microsoft: dynamic activation quantization fused with an int8-weight MatMul.</summary>
    public const string DynamicQuantizeMatMul = "DynamicQuantizeMatMul";

    /// <summary>com.microsoft quantized operators.</summary>
    public const string QGemm = "QGemm";
    public const string QLinearAdd = "QLinearAdd";
    public const string QLinearMul = "QLinearMul";
    public const string QLinearConcat = "QLinearConcat";
    public const string QLinearAveragePool = "QLinearAveragePool";
    public const string QLinearGlobalAveragePool = "QLinearGlobalAveragePool";
    public const string QLinearSigmoid = "QLinearSigmoid";
    public const string QLinearLeakyRelu = "QLinearLeakyRelu";

    /// <summary>The first ONNX opset with QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul, MatMulInteger, ConvInteger.</summary>
    public const long QuantizeOpset = 10;

    /// <summary>The first ONNX opset with DynamicQuantizeLinear.</summary>
    public const long DynamicQuantizeOpset = 11;

    /// <summary>The first ONNX opset whose QuantizeLinear/DequantizeLinear take an <c>axis</c> (per-channel parameters).</summary>
    public const long PerChannelOpset = 13;

    /// <summary>The first ONNX opset whose MaxPool accepts int8/uint8 tensors.</summary>
    public const long Int8MaxPoolOpset = 12;
}

/// <summary>Attribute names of the quantized operators.</summary>
public static class QuantAttrs
{
    public const string Axis = "axis";
    public const string To = "to";
    public const string ChannelsLast = "channels_last";
    public const string Mode = "mode";
}

/// <summary>Input positions of QuantizeLinear and DequantizeLinear.</summary>
public static class QdqInput
{
    public const int X = 0, Scale = 1, ZeroPoint = 2;
}

/// <summary>Output positions of DynamicQuantizeLinear.</summary>
public static class DynamicQuantizeOutput
{
    public const int Y = 0, Scale = 1, ZeroPoint = 2;
}

/// <summary>Input positions of Clip from opset 11 on (before that, min and max are attributes).</summary>
public static class ClipInput
{
    public const int X = 0, Min = 1, Max = 2;
}

/// <summary>Input positions of Resize (opset 11+: X, roi, scales, sizes).</summary>
public static class ResizeInput
{
    public const int X = 0, Roi = 1, Scales = 2, Sizes = 3;
}

/// <summary>Input positions of MatMul.</summary>
public static class MatMulInput
{
    public const int A = 0, B = 1;
}
