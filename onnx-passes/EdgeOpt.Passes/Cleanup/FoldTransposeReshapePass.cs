using System.Diagnostics;
using EdgeOpt.Onnx.Ir;
using EdgeOpt.Passes.Core;
using Attribute = EdgeOpt.Onnx.Ir.Attribute;

namespace EdgeOpt.Passes.Cleanup;

/// <summary>
/// Folds layout-only chains: Transpose pairs, Reshape pairs, no-op Transposes and Reshapes, and Squeeze/Unsqueeze pairs that cancel.
/// <list type="bullet">
/// <item>Before: <c>t = Transpose(x, perm=p1); y = Transpose(t, perm=p2)</c>. After: <c>y = Transpose(x, perm=p)</c> with
/// p[i] = p1[p2[i]]; when p is the identity, uses of <c>y</c> read <c>x</c>.</item>
/// <item>Before: <c>y = Transpose(x, perm=[0,1,…])</c>. After: uses of <c>y</c> read <c>x</c>.</item>
/// <item>Before: <c>t = Reshape(x, s1); y = Reshape(t, s2)</c> with s2 constant. After: <c>y = Reshape(x, s2')</c>, where s2'
/// is s2 with each 0 (copy a dimension, <c>allowzero=0</c>) replaced by the intermediate's size there (skipped when that is
/// unknown). When the result keeps x's shape, uses of <c>y</c> read <c>x</c>.</item>
/// <item>Before: <c>y = Reshape(x, s)</c>, s constant, producing x's own shape: each position is x's size there, or a 0
/// that copies it (<c>allowzero=0</c>), or one -1 when every other size is known and non-zero. After: uses of <c>y</c> read <c>x</c>.</item>
/// <item>Before: <c>t = Unsqueeze(x, a); y = Squeeze(t, a)</c> or <c>t = Squeeze(x, a); y = Unsqueeze(t, a)</c> (the same
/// axes, negative ones normalized against the shared rank; a Squeeze without axes needs x's static shape).
/// After: uses of <c>y</c> read <c>x</c>.</item>
/// </list>
/// Preconditions: the intermediate <c>t</c> feeds only the second node, is not a graph output and lives in the same graph;
/// axes and shapes are constants. Graph output names are kept: when a pair folds to nothing and the output cannot take
/// over the name, an Identity carries it (two nodes become one); a single no-op node that would need such a carrier stays,
/// skipped with the reason. Exact.
/// </summary>
public sealed class FoldTransposeReshapePass(NoOptions options) : NodeRewritePass<NoOptions>(options)
{
    public const string PassId = "fold-transpose-reshape";

    public FoldTransposeReshapePass() : this(NoOptions.Instance) { }

    public override string Id => PassId;
    public override string Description => "Composes Transpose and Reshape pairs, removes no-op ones and cancelling Squeeze/Unsqueeze pairs";
    public override bool IsExact => true;

    private enum Pattern
    {
        None,
        NoOp,
        TransposePair,
        ReshapePair,
        SqueezePair,
    }

    protected override bool Matches(Node node) => Classify(node) != Pattern.None;

    protected override Rewrite Apply(Node node, GraphEditor edit)
    {
        var pattern = Classify(node);
        if (pattern == Pattern.NoOp) return RemoveNoOp(node, edit, NoOp(node)!);
        var result = pattern switch
        {
            Pattern.TransposePair => FoldTransposes(node, edit),
            Pattern.ReshapePair => FoldReshapes(node, edit),
            Pattern.SqueezePair => CancelSqueezePair(node, edit),
            _ => throw new UnreachableException($"{node} matched no pattern"),
        };
        // A pair that cannot fold may still end in a node that is a no-op by itself.
        return !result.Done && NoOp(node) is { } what ? RemoveNoOp(node, edit, what) : result;
    }

    /// <summary>What makes a single Transpose or Reshape the identity ("identity permutation", …), or null.</summary>
    private static string? NoOp(Node node)
    {
        if (node.Is(OpTypes.Transpose)) return Perm(node) is { } p && IsIdentity(p) ? "identity permutation" : null;
        if (!node.Is(OpTypes.Reshape) || ShapeOf(node) is not { } shape) return null;
        return IsNoOpReshape(node.Input(ReshapeInput.Data)!, shape, AllowZero(node)) ? "shape equals the input's" : null;
    }

    private static Pattern Classify(Node node)
    {
        var first = node.Input(0)?.Producer;
        if (node.Is(OpTypes.Transpose) && first != null && first.Is(OpTypes.Transpose)) return Pattern.TransposePair;
        if (node.Is(OpTypes.Reshape) && first != null && first.Is(OpTypes.Reshape) && ShapeOf(node) != null) return Pattern.ReshapePair;
        if (node.Is(OpTypes.Squeeze) && first != null && first.Is(OpTypes.Unsqueeze)) return Pattern.SqueezePair;
        if (node.Is(OpTypes.Unsqueeze) && first != null && first.Is(OpTypes.Squeeze)) return Pattern.SqueezePair;
        return NoOp(node) != null ? Pattern.NoOp : Pattern.None;
    }

    private static Rewrite FoldTransposes(Node second, GraphEditor edit)
    {
        var t = second.Input(0)!;
        var first = t.Producer!;
        if (Bypass.IntermediateReason(t, second) is { } reason) return Rewrite.Skip(reason);
        var x = first.Input(0);
        if (x == null) return Rewrite.Skip($"'{first.Name}' has no data input");
        if (Perm(first) is not { } p1) return Rewrite.Skip($"perm of '{first.Name}' is unknown (no perm attribute and unknown rank)");
        if (Perm(second) is not { } p2) return Rewrite.Skip("perm is unknown (no perm attribute and unknown rank)");
        if (!IsPermutation(p1) || !IsPermutation(p2) || p1.Length != p2.Length) return Rewrite.Skip("perms are not permutations of one rank");
        var composed = p2.Select(i => p1[i]).ToArray();
        if (IsIdentity(composed)) return ReplaceBoth(first, second, x, edit, "Transpose pair composes to the identity");
        second.SetInput(0, x);
        second.SetAttribute(Attribute.Ints(AttrNames.Perm, composed));
        Bypass.RemoveWithUnusedConstants(edit, first);
        return Rewrite.Changed($"merged with '{first.Name}': perm [{string.Join(",", composed)}]");
    }

    private static Rewrite FoldReshapes(Node second, GraphEditor edit)
    {
        var t = second.Input(ReshapeInput.Data)!;
        var first = t.Producer!;
        var shape = ShapeOf(second)!;
        var allowZero = AllowZero(second);
        if (Bypass.IntermediateReason(t, second) is { } reason) return Rewrite.Skip(reason);
        var x = first.Input(ReshapeInput.Data);
        if (x == null) return Rewrite.Skip($"'{first.Name}' has no data input");
        var resolved = (long[])shape.Clone();
        for (var i = 0; i < resolved.Length; i++)
        {
            if (resolved[i] != 0 || allowZero) continue;
            if (IntermediateDim(first, t, i) is not { } size) return Rewrite.Skip($"shape copies dimension {i} of '{t.Name}', whose size is unknown");
            resolved[i] = size;
        }
        if (IsNoOpReshape(x, resolved, allowZero)) return ReplaceBoth(first, second, x, edit, "Reshape pair restores the input's shape");
        second.SetInput(ReshapeInput.Data, x);
        if (!resolved.SequenceEqual(shape))
        {
            var oldShape = second.Input(ReshapeInput.Shape)!;
            second.SetInput(ReshapeInput.Shape, edit.Constant(second, "shape", Tensor.Create("", [resolved.Length], resolved)));
            edit.RemoveIfUnused(oldShape);
        }
        Bypass.RemoveWithUnusedConstants(edit, first);
        return Rewrite.Changed($"merged with '{first.Name}': shape [{string.Join(",", resolved)}]");
    }

    private static Rewrite CancelSqueezePair(Node second, GraphEditor edit)
    {
        var t = second.Input(SqueezeInput.Data)!;
        var first = t.Producer!;
        if (Bypass.IntermediateReason(t, second) is { } reason) return Rewrite.Skip(reason);
        var x = first.Input(SqueezeInput.Data);
        if (x == null) return Rewrite.Skip($"'{first.Name}' has no data input");
        var (squeeze, unsqueeze) = first.Is(OpTypes.Unsqueeze) ? (second, first) : (first, second);
        if (Axes(unsqueeze, out var axesProblem) is not { } unsqueezeAxes) return Rewrite.Skip(axesProblem!);
        var squeezeAxes = Axes(squeeze, out axesProblem);
        if (axesProblem != null) return Rewrite.Skip(axesProblem);
        var xRank = x.TensorType?.Rank;
        // Both axis lists refer to the rank with the unit dimensions in: the Unsqueeze's output (= Squeeze's input).
        int? rank = first.Is(OpTypes.Unsqueeze) ? xRank + unsqueezeAxes.Length : xRank;
        rank ??= t.TensorType?.Rank + (first.Is(OpTypes.Unsqueeze) ? 0 : unsqueezeAxes.Length);
        squeezeAxes ??= SqueezeAllAxes(first, x, unsqueezeAxes, rank);
        if (squeezeAxes == null) return Rewrite.Skip("Squeeze has no axes and the input's static shape is unknown");
        var a = Normalize(unsqueezeAxes, rank);
        var b = Normalize(squeezeAxes, rank);
        if (a == null || b == null) return Rewrite.Skip("negative or out-of-range axes with unknown rank");
        if (!a.SequenceEqual(b)) return Rewrite.Skip($"axes [{string.Join(",", a)}] and [{string.Join(",", b)}] do not cancel");
        return ReplaceBoth(first, second, x, edit, $"{first.OpType}/{second.OpType} pair cancels (axes [{string.Join(",", a)}])");
    }

    /// <summary>Axes a Squeeze without an axes list removes: its input's unit dimensions, when every size is known.</summary>
    private static long[]? SqueezeAllAxes(Node first, Value x, long[] unsqueezeAxes, int? rank)
    {
        if (x.TensorType?.StaticShape is not { } xs) return null;
        if (first.Is(OpTypes.Squeeze)) return [.. Enumerable.Range(0, xs.Length).Where(i => xs[i] == 1).Select(i => (long)i)];
        // Unsqueeze first: the squeeze sees x's sizes with ones inserted; only the inserted ones may be units.
        return xs.Contains(1) || rank == null ? null : Normalize(unsqueezeAxes, rank);
    }

    private static Rewrite RemoveNoOp(Node node, GraphEditor edit, string what)
    {
        var x = node.Input(0)!;
        if (Bypass.CarrierReason(node.Output(0), x) is { } reason) return Rewrite.Skip($"{what}, but {reason}");
        Bypass.ReplaceWithUnusedConstants(edit, node, x);
        return Rewrite.Changed($"removed: {what}");
    }

    /// <summary>Replaces a pair that computes the identity by <paramref name="x"/> (an Identity keeps a graph output name where needed).</summary>
    private static Rewrite ReplaceBoth(Node first, Node second, Value x, GraphEditor edit, string what)
    {
        var carrier = Bypass.CarrierReason(second.Output(0), x) != null ? $"; an Identity keeps graph output '{second.Output(0).Name}'" : "";
        Bypass.ReplaceWithUnusedConstants(edit, second, x);
        Bypass.RemoveWithUnusedConstants(edit, first);
        return Rewrite.Changed($"removed with '{first.Name}': {what}{carrier}");
    }

    /// <summary>The permutation of a Transpose: its perm attribute, or the reversal of its input's known rank.</summary>
    private static long[]? Perm(Node transpose)
    {
        if (transpose.GetInts(AttrNames.Perm) is { } perm) return [.. perm];
        var rank = transpose.Input(0)?.TensorType?.Rank;
        return rank == null ? null : [.. Enumerable.Range(0, rank.Value).Reverse().Select(i => (long)i)];
    }

    private static bool IsPermutation(long[] perm) =>
        perm.All(i => i >= 0 && i < perm.Length) && perm.Distinct().Count() == perm.Length;

    private static bool IsIdentity(long[] perm) => perm.Select((p, i) => p == i).All(b => b);

    private static bool AllowZero(Node reshape) => reshape.GetInt(AttrNames.AllowZero, 0) != 0;

    /// <summary>The constant target shape of a Reshape (opset 5+), or null.</summary>
    private static long[]? ShapeOf(Node reshape)
    {
        var shape = reshape.Input(ReshapeInput.Shape)?.Constant;
        if (shape == null || shape.Rank != 1 || shape.DataType != TensorDataType.Int64) return null;
        return shape.ToArray<long>();
    }

    /// <summary>Whether Reshape(x, shape) gives x's own shape, judged from x's declared type.</summary>
    private static bool IsNoOpReshape(Value x, long[] shape, bool allowZero)
    {
        var dims = x.TensorType?.Shape;
        if (dims == null || dims.Count != shape.Length) return false;
        var inferred = -1;
        for (var i = 0; i < shape.Length; i++)
        {
            var s = shape[i];
            var d = dims[i].Value;
            if (s == -1)
            {
                if (inferred >= 0) return false;
                inferred = i;
            }
            else if (s == 0 && !allowZero)
            {
                continue;
            }
            else if (d != s)
            {
                return false;
            }
        }
        if (inferred < 0) return true;
        // -1 takes the remaining size: x's own size there, provided every other size is known and non-zero.
        return Enumerable.Range(0, shape.Length).Where(i => i != inferred).All(i => dims[i].Value is > 0);
    }

    /// <summary>Size of dimension <paramref name="i"/> of the first Reshape's output, from its constant shape or declared type.</summary>
    private static long? IntermediateDim(Node first, Value t, int i)
    {
        if (ShapeOf(first) is { } s && i < s.Length && s[i] > 0) return s[i];
        var dims = t.TensorType?.Shape;
        return dims != null && i < dims.Count && dims[i].Value is { } d ? d : null;
    }

    /// <summary>The axes of a Squeeze or Unsqueeze (attribute before opset 13, constant input after); null without axes.</summary>
    private static long[]? Axes(Node node, out string? problem)
    {
        problem = null;
        if (node.GetInts(AttrNames.Axes) is { } attr) return [.. attr];
        var input = node.Input(SqueezeInput.Axes);
        if (input == null)
        {
            if (node.Is(OpTypes.Unsqueeze)) problem = "Unsqueeze has no axes";
            return null;
        }
        var constant = input.Constant;
        if (constant == null || constant.Rank > 1 || constant.DataType != TensorDataType.Int64)
        {
            problem = $"axes '{input.Name}' of '{node.Name}' are not a constant int64 list";
            return null;
        }
        return constant.ToArray<long>();
    }

    /// <summary>Sorted non-negative axes, or null when a negative axis meets an unknown rank, an axis is out of range, or one repeats.</summary>
    private static long[]? Normalize(long[] axes, int? rank)
    {
        var result = new long[axes.Length];
        for (var i = 0; i < axes.Length; i++)
        {
            var a = axes[i];
            if (a < 0)
            {
                if (rank == null) return null;
                a += rank.Value;
            }
            if (a < 0 || (rank != null && a >= rank)) return null;
            result[i] = a;
        }
        Array.Sort(result);
        return result.Distinct().Count() == result.Length ? result : null;
    }
}
