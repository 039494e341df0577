using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Passes.Quantization;

/// <summary>
/// Computes activation ranges for a model on sample data: what <see cref="QuantizeStaticPass"/> asks when its options carry no
/// table. The pipeline supplies one backed by ONNX Runtime (passes never run models themselves).
/// </summary>
public interface ICalibrationProvider
{
    /// <summary>Ranges of <paramref name="tensors"/> of <paramref name="model"/> (as it is now, after the passes before this one).</summary>
    CalibrationTable Calibrate(Model model, IReadOnlyList<string> tensors, CancellationToken cancellation);
}
