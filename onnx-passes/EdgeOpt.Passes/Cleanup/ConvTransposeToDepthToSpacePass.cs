using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Cleanup;

/// <summary>
/// Rewrites a 2-D <c>ConvTranspose</c> whose stride equals its kernel (k×k, no padding) as a 1×1 <c>Conv</c> with k²·C_out output
/// channels followed by <c>DepthToSpace</c> (blocksize k, mode CRD): the kernel windows do not overlap, so every output pixel is one
/// input pixel times one kernel tap. ONNX Runtime's CPU EP has no int8 ConvTranspose; a 1×1 Conv runs as QLinearConv and
/// DepthToSpace moves uint8 data unchanged (a DB-style detection head, e.g. PP-OCR's, upsamples this way).
/// <para>Before: <c>y = ConvTranspose(x, W[C_in, C_out, k, k], b)</c> (strides k, pads 0). After:
/// <c>y = DepthToSpace(Conv(x, W', b'), k, CRD)</c> with W'[co·k² + a·k + c, ci, 0, 0] = W[ci, co, a, c] and b'[co·k² + a·k + c] = b[co].</para>
/// <para>A Relu that alone reads the ConvTranspose output moves in front of the DepthToSpace (it commutes with a permutation), so
/// a quantizer can fold it into the Conv's output.</para>
/// Preconditions: weight and bias constant float/float16/double; 4-D weight with square kernel k ≥ 2; strides [k, k]; group 1;
/// dilations 1; pads, output_padding 0; no output_shape; auto_pad NOTSET or VALID. Otherwise skipped with the reason. The new
/// nodes are <c>{node}/conv</c> and <c>{node}/depth_to_space</c>; the DepthToSpace output takes the replaced output's name. Exact up to floating-point rounding
/// (summation order).
/// </summary>
public sealed class ConvTransposeToDepthToSpacePass(NoOptions options) : NodeRewritePass<NoOptions>(options)
{
    public const string PassId = "convtranspose-to-depthtospace";

    /// <summary>ONNX's DepthToSpace operator and its attributes.</summary>
    public const string DepthToSpace = "DepthToSpace", BlockSize = "blocksize", Mode = "mode", ColumnRowDepth = "CRD";

    public ConvTransposeToDepthToSpacePass() : this(NoOptions.Instance) { }

    public override string Id => PassId;
    public override string Description => "Rewrites a ConvTranspose with stride = kernel as a 1x1 Conv and DepthToSpace";
    public override bool IsExact => true;

    protected override bool Matches(Node node) => node.Is(OpTypes.ConvTranspose);

    protected override Rewrite Apply(Node node, GraphEditor edit)
    {
        var w = node.Input(ConvInput.W)?.Constant;
        if (w == null || w.Rank != 4 || !FloatTensors.IsSupported(w.DataType) || w.ElementCount == 0) return Rewrite.Skip("weight is not a constant 4-D float tensor");
        var (cin, cout, k) = (w.Dims[0], w.Dims[1], w.Dims[2]);
        if (w.Dims[3] != k || k < 2) return Rewrite.Skip($"kernel {w.Dims[2]}x{w.Dims[3]} is not square k x k with k ≥ 2");
        if (Blocker(node, k) is { } blocker) return Rewrite.Skip(blocker);
        var biasValue = node.Input(ConvInput.B);
        var bias = biasValue?.Constant;
        if (biasValue != null && (bias == null || bias.DataType != w.DataType || bias.ElementCount != cout)) return Rewrite.Skip($"bias '{biasValue.Name}' is not a constant [{cout}] tensor of the weight's type");
        if (node.Outputs.Count != 1) return Rewrite.Skip("has more than one output");

        var wd = FloatTensors.ToDoubles(w)!;
        var kk = k * k;
        var weight = new double[wd.Length];
        for (var ci = 0L; ci < cin; ci++)
        {
            for (var co = 0L; co < cout; co++)
            {
                for (var tap = 0L; tap < kk; tap++) weight[(co * kk + tap) * cin + ci] = wd[(ci * cout + co) * kk + tap];
            }
        }
        var inputs = new List<Value?> { node.Input(0), edit.Constant(node, "conv_weight", FloatTensors.Create("", w.DataType, [cout * kk, cin, 1, 1], weight)) };
        if (bias != null)
        {
            var bd = FloatTensors.ToDoubles(bias)!;
            inputs.Add(edit.Constant(node, "conv_bias", FloatTensors.Create("", w.DataType, [cout * kk], [.. Enumerable.Range(0, (int)(cout * kk)).Select(i => bd[i / kk])])));
        }
        var conv = edit.AddNode(node, "conv", OpTypes.Conv, inputs).Output(0);
        var output = node.Output(0);
        var relu = output is { IsGraphOutput: false, Uses.Count: 1 } && output.Uses[0].Node is { } user && user.Is(OpTypes.Relu) && user.Graph == node.Graph ? user : null;
        var beforeShuffle = relu != null ? edit.AddNode(node, "relu", OpTypes.Relu, [conv]).Output(0) : conv;
        var shuffled = edit.AddNode(node, "depth_to_space", DepthToSpace, [beforeShuffle], attributes: [Attribute.Int(BlockSize, k), Attribute.String(Mode, ColumnRowDepth)]).Output(0);
        var last = (relu ?? node).Output(0);
        var (lastName, lastIsOutput) = (last.Name, last.IsGraphOutput);
        Bypass.ReplaceWithUnusedConstants(edit, node, shuffled);
        if (relu != null) Bypass.ReplaceWithUnusedConstants(edit, relu, shuffled);
        // Same values under the same name (a graph output keeps it anyway): calibration tables keyed by it stay right.
        if (!lastIsOutput && shuffled.Name != lastName) edit.Graph.Rename(shuffled, lastName);
        return Rewrite.Changed($"1x1 Conv to {cout * kk} channels + DepthToSpace({k}){(relu != null ? $"; Relu '{relu.Name}' moved before the DepthToSpace" : "")}");
    }

    private static string? Blocker(Node node, long k)
    {
        if (node.GetInt(AttrNames.Group, 1) != 1) return "group ≠ 1";
        if (node.HasAttribute(AttrNames.OutputShape)) return "output_shape is set";
        var autoPad = node.GetString(AttrNames.AutoPad, "NOTSET");
        if (autoPad is not ("NOTSET" or "VALID")) return $"auto_pad {autoPad}";
        if (node.GetInts(AttrNames.KernelShape) is { } ks && ks.Any(v => v != k)) return "kernel_shape differs from the weight";
        if (node.GetInts(AttrNames.Strides) is not { Count: 2 } strides || strides.Any(s => s != k)) return $"strides are not [{k}, {k}]";
        if (node.GetInts(AttrNames.Pads) is { } pads && pads.Any(p => p != 0)) return "has pads";
        if (node.GetInts(AttrNames.Dilations) is { } dil && dil.Any(d => d != 1)) return "has dilations";
        if (node.GetInts(AttrNames.OutputPadding) is { } op && op.Any(p => p != 0)) return "has output_padding";
        return null;
    }
}
