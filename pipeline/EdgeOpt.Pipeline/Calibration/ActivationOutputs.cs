using EdgeOpt.Onnx.IO;
using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Pipeline.Calibration;

/// <summary>
/// Builds the model calibration runs: a copy whose graph outputs also list the observed activations, so one ONNX Runtime
/// session returns them all. The input model is never changed.
/// </summary>
public static class ActivationOutputs
{
    /// <summary>
    /// A copy of <paramref name="model"/> whose graph outputs also list <paramref name="tensors"/> (by value name). Graph
    /// inputs are skipped (the caller has them), tensors already listed stay where they are. Each added output is typed
    /// with its element type and no shape, so ONNX Runtime infers the shape itself rather than checking a guessed one.
    /// </summary>
    /// <exception cref="ArgumentException">A name is not a floating-point activation of the main graph.</exception>
    public static Model Expose(Model model, IEnumerable<string> tensors)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        var copy = ModelReader.Copy(model);
        var selected = TensorSelector.Named(tensors).Select(copy);
        ExposeInPlace(copy, selected);
        return copy;
    }

    /// <summary>Adds the non-input tensors of <paramref name="selected"/> (values of <paramref name="model"/>) to its graph outputs; returns their names.</summary>
    internal static IReadOnlyList<string> ExposeInPlace(Model model, IReadOnlyList<ObservableTensor> selected)
    {
        var graph = model.Graph;
        var exposed = new List<string>();
        foreach (var tensor in selected)
        {
            var value = tensor.Value;
            if (value.Graph != graph) throw new ArgumentException($"tensor '{value.Name}' is not a value of this model's main graph");
            if (value.IsGraphInput) continue;
            exposed.Add(value.Name);
            if (graph.Outputs.Contains(value)) continue;
            if (value.TensorType is not { ElementType: not TensorDataType.Undefined })
            {
                value.Type = new TensorType(tensor.ElementType, shape: null);
            }
            graph.RemoveAnnotation(value);
            graph.AddOutput(value);
        }
        return exposed;
    }
}
