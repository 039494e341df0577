using EdgeOpt.Onnx.Ir;

namespace EdgeOpt.Onnx.Shapes;

/// <summary>Per-operator shape rules. Each returns false when it cannot decide (missing input shapes, data-dependent output).</summary>
internal static class ShapeRules
{
    private delegate bool Rule(Node node, InferenceContext c);

    private static readonly Dictionary<string, Rule> Rules = Build();

    public static bool TryInfer(Node node, InferenceContext c)
    {
        if (!Rules.TryGetValue(node.OpType, out var rule)) return false;
        try
        {
            return rule(node, c);
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static Dictionary<string, Rule> Build()
    {
        var r = new Dictionary<string, Rule>(StringComparer.Ordinal);
        foreach (var op in new[]
        {
            "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Celu", "Cos", "Cosh", OpTypes.Elu, OpTypes.Erf, OpTypes.Exp,
            "Floor", OpTypes.Gelu, OpTypes.HardSigmoid, OpTypes.HardSwish, OpTypes.LeakyRelu, OpTypes.Log, "Mish", OpTypes.Neg, "Reciprocal",
            OpTypes.Relu, "Round", "Selu", OpTypes.Sigmoid, "Sign", "Sin", "Sinh", "Softplus", "Softsign", OpTypes.Sqrt, "Tan", OpTypes.Tanh,
            "ThresholdedRelu", OpTypes.Clip, OpTypes.Identity, OpTypes.Softmax, "LogSoftmax", "Hardmax", OpTypes.LRN, "Shrink",
            OpTypes.InstanceNormalization, "MeanVarianceNormalization", "CumSum", "Trilu", "Not", "IsNaN", "IsInf", "BitwiseNot",
            "QuickGelu", "FastGelu",
        })
        {
            r[op] = SameAsInput;
        }
        foreach (var op in new[] { OpTypes.Add, OpTypes.Sub, OpTypes.Mul, OpTypes.Div, OpTypes.Pow, "Mod", OpTypes.PRelu, OpTypes.Max, OpTypes.Min, "Sum", "Mean", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor" })
        {
            r[op] = Elementwise;
        }
        foreach (var op in new[] { OpTypes.Equal, "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor" })
        {
            r[op] = (n, c) =>
            {
                TrackArithmetic(n, c);
                return Set(n, c, TensorDataType.Bool, Dims.Broadcast([.. n.Inputs.Select(c.ShapeOf)]));
            };
        }
        foreach (var op in new[] { "ReduceMax", OpTypes.ReduceMean, "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp" })
        {
            r[op] = Reduce;
        }
        r[OpTypes.Dropout] = Dropout;
        r[OpTypes.BatchNormalization] = (n, c) => SetFirstLike(n, c, 0);
        r[OpTypes.LayerNormalization] = (n, c) => SetFirstLike(n, c, 0);
        r["Where"] = (n, c) => Set(n, c, c.ElemOf(n.Input(1)), Dims.Broadcast([.. n.Inputs.Select(c.ShapeOf)]));
        r[OpTypes.Cast] = (n, c) => Cast(n, c);
        r["CastLike"] = (n, c) => Set(n, c, c.ElemOf(n.Input(1)), c.ShapeOf(n.Input(0)));
        r["QuantizeLinear"] = (n, c) => Set(n, c, n.GetInt("output_dtype", 0) is > 0 and var t ? (TensorDataType)t : c.TypeOf(n.Input(2))?.ElementType ?? TensorDataType.UInt8, c.ShapeOf(n.Input(0)));
        r["DequantizeLinear"] = (n, c) => Set(n, c, c.ElemOf(n.Input(1)) is TensorDataType.Float16 or TensorDataType.BFloat16 ? c.ElemOf(n.Input(1)) : TensorDataType.Float, c.ShapeOf(n.Input(0)));
        r["DynamicQuantizeLinear"] = DynamicQuantizeLinear;
        r[OpTypes.Conv] = Conv;
        r["ConvInteger"] = Conv;
        r["QLinearConv"] = QLinearConv;
        r[OpTypes.ConvTranspose] = ConvTranspose;
        r[OpTypes.MaxPool] = Pool;
        r[OpTypes.AveragePool] = Pool;
        r["LpPool"] = Pool;
        r[OpTypes.GlobalAveragePool] = GlobalPool;
        r[OpTypes.GlobalMaxPool] = GlobalPool;
        r["GlobalLpPool"] = GlobalPool;
        r[OpTypes.Gemm] = Gemm;
        r[OpTypes.MatMul] = (n, c) => MatMul(n, c, c.ElemOf(n.Input(0)));
        r["MatMulInteger"] = (n, c) => MatMul(n, c, TensorDataType.Int32);
        r["QLinearMatMul"] = (n, c) => MatMul(n, c, c.ElemOf(n.Input(7)), bInput: 3);
        r[OpTypes.Flatten] = Flatten;
        r[OpTypes.Reshape] = Reshape;
        r[OpTypes.Transpose] = Transpose;
        r[OpTypes.Concat] = Concat;
        r[OpTypes.Split] = Split;
        r[OpTypes.Slice] = Slice;
        r[OpTypes.Squeeze] = Squeeze;
        r[OpTypes.Unsqueeze] = Unsqueeze;
        r[OpTypes.Shape] = Shape;
        r["Size"] = (n, c) =>
        {
            if (c.ShapeOf(n.Input(0)) is { } shape) c.SetInts(n.Outputs[0], [Dims.Product(shape)]);
            return Set(n, c, TensorDataType.Int64, []);
        };
        r[OpTypes.Gather] = Gather;
        r["GatherElements"] = (n, c) => Set(n, c, c.ElemOf(n.Input(0)), c.ShapeOf(n.Input(1)));
        r[OpTypes.ConstantOfShape] = ConstantOfShape;
        r[OpTypes.Expand] = Expand;
        r["Tile"] = Tile;
        r["Range"] = Range;
        r[OpTypes.Pad] = Pad;
        r[OpTypes.Resize] = Resize;
        r[OpTypes.Upsample] = Resize;
        r["ArgMax"] = ArgReduce;
        r["ArgMin"] = ArgReduce;
        r["TopK"] = TopK;
        r["DepthToSpace"] = (n, c) => SpaceDepth(n, c, toSpace: true);
        r["SpaceToDepth"] = (n, c) => SpaceDepth(n, c, toSpace: false);
        r[OpTypes.LSTM] = (n, c) => Recurrent(n, c, hasCell: true);
        r[OpTypes.GRU] = (n, c) => Recurrent(n, c, hasCell: false);
        r["RNN"] = (n, c) => Recurrent(n, c, hasCell: false);
        r["NonZero"] = (n, c) => Set(n, c, TensorDataType.Int64, c.RankOf(n.Input(0)) is { } rank ? [Dim.Of(rank), Dim.Unknown] : null);
        r["NonMaxSuppression"] = (n, c) => Set(n, c, TensorDataType.Int64, [Dim.Unknown, Dim.Of(3)]);
        r[OpTypes.If] = If;
        r[OpTypes.Loop] = LoopOrScan;
        r[OpTypes.Scan] = LoopOrScan;
        return r;
    }

    private static bool Set(Node n, InferenceContext c, TensorDataType elem, IReadOnlyList<Dim>? shape, int output = 0)
    {
        c.Set(n.Outputs.Count > output ? n.Outputs[output] : null, elem, shape);
        return shape != null;
    }

    private static bool SetFirstLike(Node n, InferenceContext c, int input) => Set(n, c, c.ElemOf(n.Input(input)), c.ShapeOf(n.Input(input)));

    private static bool SameAsInput(Node n, InferenceContext c)
    {
        var ok = SetFirstLike(n, c, 0);
        if (n.OpType is OpTypes.Identity or "Neg" or "Abs" or "Not" && c.IntsOf(n.Input(0)) is { } ints)
        {
            c.SetInts(n.Outputs[0], n.OpType switch
            {
                "Not" => [.. ints.Select(d => d.IsKnown ? Dim.Of(d.Value == 0 ? 1 : 0) : Dim.Unknown)],
                "Neg" => [.. ints.Select(d => d.IsKnown ? Dim.Of(-d.Value!.Value) : Dim.Unknown)],
                "Abs" => [.. ints.Select(d => d.IsKnown ? Dim.Of(Math.Abs(d.Value!.Value)) : Dim.Unknown)],
                _ => ints,
            });
        }
        return ok;
    }

    private static bool Elementwise(Node n, InferenceContext c)
    {
        var ok = Set(n, c, c.ElemOf(n.Input(0)), Dims.Broadcast([.. n.Inputs.Select(c.ShapeOf)]));
        TrackArithmetic(n, c);
        return ok;
    }

    /// <summary>Element-wise integer arithmetic on tracked shape values (e.g. <c>H / 2</c> for a Reshape target).</summary>
    private static void TrackArithmetic(Node n, InferenceContext c)
    {
        if (n.Inputs.Count != 2 || c.IntsOf(n.Input(0)) is not { } a || c.IntsOf(n.Input(1)) is not { } b) return;
        var sameShape = c.ShapeOf(n.Input(0)) is { } sa && c.ShapeOf(n.Input(1)) is { } sb && sa.SequenceEqual(sb);
        if (!sameShape && a.Length != 1 && b.Length != 1) return;
        var len = Math.Max(a.Length, b.Length);
        var result = new Dim[len];
        for (var i = 0; i < len; i++)
        {
            var x = a[a.Length == 1 ? 0 : i];
            var y = b[b.Length == 1 ? 0 : i];
            result[i] = n.OpType switch
            {
                OpTypes.Mul => Dims.Mul(x, y),
                OpTypes.Add => Dims.Add(x, y),
                OpTypes.Sub when x.IsKnown && y.IsKnown => Dim.Of(x.Value!.Value - y.Value!.Value),
                OpTypes.Div when x.IsKnown && y.Value is { } d && d != 0 => Dim.Of(FloorDiv(x.Value!.Value, d)),
                OpTypes.Equal when x.IsKnown && y.IsKnown => Dim.Of(x.Value == y.Value ? 1 : 0),
                OpTypes.Equal when x.Param != null && x.Param == y.Param => Dim.Of(1),
                "Less" when x.IsKnown && y.IsKnown => Dim.Of(x.Value < y.Value ? 1 : 0),
                "Greater" when x.IsKnown && y.IsKnown => Dim.Of(x.Value > y.Value ? 1 : 0),
                _ => Dim.Unknown,
            };
        }
        c.SetInts(n.Outputs[0], result);
    }

    private static long FloorDiv(long a, long b) => (long)Math.Floor(a / (double)b);

    private static bool Dropout(Node n, InferenceContext c)
    {
        var shape = c.ShapeOf(n.Input(0));
        Set(n, c, TensorDataType.Bool, shape, output: 1);
        return Set(n, c, c.ElemOf(n.Input(0)), shape);
    }

    private static bool Cast(Node n, InferenceContext c)
    {
        var to = (TensorDataType)n.GetInt("to", 0);
        if (c.IntsOf(n.Input(0)) is { } ints && to is TensorDataType.Int64 or TensorDataType.Int32 or TensorDataType.Bool)
        {
            c.SetInts(n.Outputs[0], to == TensorDataType.Bool ? [.. ints.Select(d => d.IsKnown ? Dim.Of(d.Value != 0 ? 1 : 0) : d)] : ints);
        }
        return Set(n, c, to, c.ShapeOf(n.Input(0)));
    }

    private static bool DynamicQuantizeLinear(Node n, InferenceContext c)
    {
        Set(n, c, TensorDataType.Float, [], output: 1);
        Set(n, c, TensorDataType.UInt8, [], output: 2);
        return Set(n, c, TensorDataType.UInt8, c.ShapeOf(n.Input(0)));
    }

    private static long[]? AxesOf(Node n, InferenceContext c, int inputIndex, long sinceOpset)
    {
        if (c.Opset() >= sinceOpset && n.Inputs.Count > inputIndex && n.Input(inputIndex) != null) return c.KnownInts(n.Input(inputIndex)) ?? [-999];
        return n.GetInts(AttrNames.Axes)?.ToArray();
    }

    private static bool Reduce(Node n, InferenceContext c)
    {
        if (c.ShapeOf(n.Input(0)) is not { } s) return Set(n, c, c.ElemOf(n.Input(0)), null);
        var since = n.OpType == "ReduceSum" ? 13 : 18;
        var axes = AxesOf(n, c, 1, since);
        if (axes is [-999]) return Set(n, c, c.ElemOf(n.Input(0)), null);
        var keep = n.GetInt("keepdims", 1) == 1;
        if (axes == null || axes.Length == 0)
        {
            if (n.GetInt("noop_with_empty_axes", 0) == 1) return SetFirstLike(n, c, 0);
            axes = [.. Enumerable.Range(0, s.Count).Select(i => (long)i)];
        }
        var set = axes.Select(a => Dims.Axis(a, s.Count)).ToHashSet();
        var dims = new List<Dim>();
        for (var i = 0; i < s.Count; i++)
        {
            if (!set.Contains(i)) dims.Add(s[i]);
            else if (keep) dims.Add(Dim.Of(1));
        }
        return Set(n, c, c.ElemOf(n.Input(0)), dims);
    }

    private static bool ArgReduce(Node n, InferenceContext c)
    {
        if (c.ShapeOf(n.Input(0)) is not { } s) return Set(n, c, TensorDataType.Int64, null);
        var axis = Dims.Axis(n.GetInt(AttrNames.Axis, 0), s.Count);
        var keep = n.GetInt("keepdims", 1) == 1;
        var dims = s.Select((d, i) => i == axis ? (Dim?)(keep ? Dim.Of(1) : null) : d).Where(d => d != null).Select(d => d!.Value).ToList();
        return Set(n, c, TensorDataType.Int64, dims);
    }

    private static bool TopK(Node n, InferenceContext c)
    {
        if (c.ShapeOf(n.Input(0)) is not { } s) return false;
        var axis = Dims.Axis(n.GetInt(AttrNames.Axis, -1), s.Count);
        var k = n.Inputs.Count > 1 ? c.KnownInts(n.Input(1)) is [var kv] ? Dim.Of(kv) : Dim.Unknown : Dim.Of(n.GetInt("k", 1));
        var dims = s.Select((d, i) => i == axis ? k : d).ToList();
        Set(n, c, TensorDataType.Int64, dims, output: 1);
        return Set(n, c, c.ElemOf(n.Input(0)), dims);
    }

    /// <summary>Spatial attributes of Conv/ConvTranspose/pooling, filled with their defaults.</summary>
    private sealed record Window(long[] Kernel, long[] Strides, long[] Dilations, long[] Pads, string AutoPad)
    {
        public static Window Of(Node n, long[] kernel)
        {
            var k = kernel.Length;
            long[] Get(string name, long fill) => n.GetInts(name) is { Count: > 0 } v ? [.. v] : [.. Enumerable.Repeat(fill, name == AttrNames.Pads ? 2 * k : k)];
            return new Window(kernel, Get(AttrNames.Strides, 1), Get(AttrNames.Dilations, 1), Get(AttrNames.Pads, 0), n.GetString(AttrNames.AutoPad, "NOTSET"));
        }

        public Dim Output(Dim input, int i, bool ceil = false) => AutoPad switch
        {
            "SAME_UPPER" or "SAME_LOWER" => Dims.Same(input, Strides[i]),
            "VALID" => Dims.Window(input, Kernel[i], Strides[i], Dilations[i], 0, 0, ceil),
            _ => Dims.Window(input, Kernel[i], Strides[i], Dilations[i], Pads[i], Pads[i + Kernel.Length], ceil),
        };
    }

    private static bool Conv(Node n, InferenceContext c) => ConvLike(n, c, n.Input(ConvInput.X), n.Input(ConvInput.W),
        n.Is("ConvInteger") ? TensorDataType.Int32 : c.ElemOf(n.Input(ConvInput.X)));

    private static bool QLinearConv(Node n, InferenceContext c) => ConvLike(n, c, n.Input(0), n.Input(3), c.ElemOf(n.Input(7)));

    private static bool ConvLike(Node n, InferenceContext c, Value? x, Value? w, TensorDataType elem)
    {
        if (c.ShapeOf(x) is not { } xs || c.ShapeOf(w) is not { } ws || xs.Count < 3 || ws.Count != xs.Count) return Set(n, c, elem, null);
        var kernel = n.GetInts(AttrNames.KernelShape) is { Count: > 0 } ks ? ks.ToArray() : ws.Skip(2).Select(d => d.Value ?? -1).ToArray();
        if (kernel.Any(k => k < 0)) return Set(n, c, elem, null);
        var win = Window.Of(n, kernel);
        var dims = new List<Dim> { xs[0], ws[0] };
        for (var i = 0; i < kernel.Length; i++) dims.Add(win.Output(xs[i + 2], i));
        return Set(n, c, elem, dims);
    }

    private static bool ConvTranspose(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(ConvInput.X));
        if (c.ShapeOf(n.Input(ConvInput.X)) is not { } xs || c.ShapeOf(n.Input(ConvInput.W)) is not { } ws || xs.Count < 3) return Set(n, c, elem, null);
        var kernel = n.GetInts(AttrNames.KernelShape) is { Count: > 0 } ks ? ks.ToArray() : ws.Skip(2).Select(d => d.Value ?? -1).ToArray();
        if (kernel.Any(k => k < 0)) return Set(n, c, elem, null);
        var win = Window.Of(n, kernel);
        var group = n.GetInt(AttrNames.Group, 1);
        var dims = new List<Dim> { xs[0], Dims.Mul(ws[1], Dim.Of(group)) };
        var outputShape = n.GetInts(AttrNames.OutputShape);
        var outPad = n.GetInts(AttrNames.OutputPadding);
        for (var i = 0; i < kernel.Length; i++)
        {
            if (outputShape is { Count: > 0 }) dims.Add(Dim.Of(outputShape[outputShape.Count - kernel.Length + i]));
            else if (!xs[i + 2].IsKnown) dims.Add(Dim.Unknown);
            else if (win.AutoPad is "SAME_UPPER" or "SAME_LOWER") dims.Add(Dim.Of(xs[i + 2].Value!.Value * win.Strides[i]));
            else
            {
                var pads = win.AutoPad == "VALID" ? 0 : win.Pads[i] + win.Pads[i + kernel.Length];
                var op = outPad is { Count: > 0 } ? outPad[i] : 0;
                dims.Add(Dim.Of(win.Strides[i] * (xs[i + 2].Value!.Value - 1) + op + (kernel[i] - 1) * win.Dilations[i] + 1 - pads));
            }
        }
        return Set(n, c, elem, dims);
    }

    private static bool Pool(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { Count: >= 3 } xs || n.GetInts(AttrNames.KernelShape) is not { Count: > 0 } ks) return Set(n, c, elem, null);
        var win = Window.Of(n, [.. ks]);
        var ceil = n.GetInt(AttrNames.CeilMode, 0) == 1;
        var dims = new List<Dim> { xs[0], xs[1] };
        for (var i = 0; i < ks.Count; i++) dims.Add(win.Output(xs[i + 2], i, ceil));
        if (n.Outputs.Count > 1) Set(n, c, TensorDataType.Int64, dims, output: 1);
        return Set(n, c, elem, dims);
    }

    private static bool GlobalPool(Node n, InferenceContext c) =>
        Set(n, c, c.ElemOf(n.Input(0)), c.ShapeOf(n.Input(0)) is { Count: >= 2 } s ? [s[0], s[1], .. s.Skip(2).Select(_ => Dim.Of(1))] : null);

    private static bool Gemm(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(GemmInput.A));
        if (c.ShapeOf(n.Input(GemmInput.A)) is not { Count: 2 } a || c.ShapeOf(n.Input(GemmInput.B)) is not { Count: 2 } b) return Set(n, c, elem, null);
        var m = n.GetInt(AttrNames.TransA, 0) == 1 ? a[1] : a[0];
        var cols = n.GetInt(AttrNames.TransB, 0) == 1 ? b[0] : b[1];
        return Set(n, c, elem, [m, cols]);
    }

    private static bool MatMul(Node n, InferenceContext c, TensorDataType elem, int bInput = 1)
    {
        if (c.ShapeOf(n.Input(0)) is not { Count: > 0 } a || c.ShapeOf(n.Input(bInput)) is not { Count: > 0 } b) return Set(n, c, elem, null);
        var a2 = a.Count == 1 ? [Dim.Of(1), a[0]] : a.ToList();
        var b2 = b.Count == 1 ? [b[0], Dim.Of(1)] : b.ToList();
        var batch = Dims.Broadcast(a2.Take(a2.Count - 2).ToList(), b2.Take(b2.Count - 2).ToList())!;
        var dims = batch.ToList();
        if (a.Count > 1) dims.Add(a2[^2]);
        if (b.Count > 1) dims.Add(b2[^1]);
        return Set(n, c, elem, dims);
    }

    private static bool Flatten(Node n, InferenceContext c)
    {
        if (c.ShapeOf(n.Input(0)) is not { } s) return Set(n, c, c.ElemOf(n.Input(0)), null);
        var axis = n.GetInt(AttrNames.Axis, 1);
        if (axis < 0) axis += s.Count;
        return Set(n, c, c.ElemOf(n.Input(0)), [Dims.Product(s.Take((int)axis)), Dims.Product(s.Skip((int)axis))]);
    }

    private static bool Reshape(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        var target = c.Opset() >= 5 ? c.IntsOf(n.Input(1)) : n.GetInts("shape")?.Select(Dim.Of).ToArray();
        var input = c.ShapeOf(n.Input(0));
        if (target == null)
        {
            var rank = c.ShapeOf(n.Input(1)) is [var len] && len.IsKnown ? (int)len.Value!.Value : -1;
            return Set(n, c, elem, rank >= 0 ? [.. Enumerable.Repeat(Dim.Unknown, rank)] : null);
        }
        var allowZero = n.GetInt(AttrNames.AllowZero, 0) == 1;
        var dims = new Dim[target.Length];
        var inferAt = -1;
        for (var i = 0; i < target.Length; i++)
        {
            var t = target[i];
            if (t.Value == 0 && !allowZero) dims[i] = input != null && i < input.Count ? input[i] : Dim.Unknown;
            else if (t.Value == -1) inferAt = i;
            else dims[i] = t;
        }
        if (inferAt >= 0) dims[inferAt] = InferMissing(input, dims, inferAt);
        if (c.IntsOf(n.Input(0)) is { } ints) c.SetInts(n.Outputs[0], ints);
        return Set(n, c, elem, dims);
    }

    /// <summary>The −1 of a Reshape: input elements over the other output dims, cancelling symbols that appear on both sides.</summary>
    private static Dim InferMissing(IReadOnlyList<Dim>? input, Dim[] dims, int skip)
    {
        if (input == null) return Dim.Unknown;
        var symbols = input.Where(d => !d.IsKnown).ToList();
        long numerator = input.Where(d => d.IsKnown).Aggregate(1L, (p, d) => p * d.Value!.Value);
        long denominator = 1;
        for (var i = 0; i < dims.Length; i++)
        {
            if (i == skip) continue;
            if (dims[i].IsKnown) denominator *= dims[i].Value!.Value;
            else if (dims[i].Param != null && symbols.FindIndex(s => s.Param == dims[i].Param) is var j and >= 0) symbols.RemoveAt(j);
            else return Dim.Unknown;
        }
        if (symbols.Count == 1 && denominator != 0 && numerator == denominator) return symbols[0];
        return symbols.Count == 0 && denominator != 0 && numerator % denominator == 0 ? Dim.Of(numerator / denominator) : Dim.Unknown;
    }

    private static bool Transpose(Node n, InferenceContext c)
    {
        if (c.ShapeOf(n.Input(0)) is not { } s) return Set(n, c, c.ElemOf(n.Input(0)), null);
        var perm = n.GetInts(AttrNames.Perm) is { Count: > 0 } p ? p.ToArray() : [.. Enumerable.Range(0, s.Count).Reverse().Select(i => (long)i)];
        if (c.IntsOf(n.Input(0)) is { } values && c.StaticShapeOf(n.Input(0)) is { } full)
        {
            var permuted = new Dim[values.Length];
            var outShape = perm.Select(a => full[a]).ToArray();
            var k = 0;
            foreach (var index in Enumerable.Range(0, values.Length))
            {
                var rest = (long)index;
                var source = new long[full.Length];
                for (var a = outShape.Length - 1; a >= 0; a--)
                {
                    source[perm[a]] = rest % outShape[a];
                    rest /= outShape[a];
                }
                long offset = 0;
                for (var a = 0; a < full.Length; a++) offset = offset * full[a] + source[a];
                permuted[k++] = values[offset];
            }
            c.SetInts(n.Outputs[0], permuted);
        }
        return Set(n, c, c.ElemOf(n.Input(0)), [.. perm.Select(i => s[(int)i])]);
    }

    private static bool Concat(Node n, InferenceContext c)
    {
        var shapes = n.Inputs.Select(c.ShapeOf).ToList();
        var elem = n.Inputs.Select(c.ElemOf).FirstOrDefault(e => e != TensorDataType.Undefined);
        var tracked = n.Inputs.Select(c.IntsOf).ToList();
        if (tracked.All(t => t != null) && (shapes[0]?.Count ?? 0) > 0 && Dims.Axis(n.GetInt(AttrNames.Axis, 0), shapes[0]!.Count) == 0)
        {
            c.SetInts(n.Outputs[0], [.. tracked.SelectMany(t => t!)]);
        }
        if (shapes.Any(s => s == null)) return Set(n, c, elem, null);
        var rank = shapes[0]!.Count;
        var axis = Dims.Axis(n.GetInt(AttrNames.Axis, 0), rank);
        var dims = new Dim[rank];
        for (var i = 0; i < rank; i++)
        {
            dims[i] = i == axis
                ? shapes.Select(s => s![i]).Aggregate(Dim.Of(0), (a, b) => a.IsKnown && b.IsKnown ? Dim.Of(a.Value!.Value + b.Value!.Value) : Dim.Unknown)
                : shapes.Select(s => s![i]).FirstOrDefault(d => d.IsKnown, shapes[0]![i]);
        }
        return Set(n, c, elem, dims);
    }

    private static bool Split(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { } s) return false;
        var axis = Dims.Axis(n.GetInt(AttrNames.Axis, 0), s.Count);
        var count = n.Outputs.Count;
        var sizesGiven = c.Opset() >= 13 ? n.Input(1) != null : n.HasAttribute("split");
        var sizes = c.Opset() >= 13 ? c.KnownInts(n.Input(1)) : n.GetInts("split")?.ToArray();
        if (!sizesGiven && s[axis].IsKnown)
        {
            var total = s[axis].Value!.Value;
            var chunk = (total + count - 1) / count;
            sizes = [.. Enumerable.Range(0, count).Select(i => Math.Max(0, Math.Min(chunk, total - i * chunk)))];
        }
        for (var o = 0; o < count; o++)
        {
            var dims = s.ToArray();
            dims[axis] = sizes != null && o < sizes.Length ? Dim.Of(sizes[o]) : Dim.Unknown;
            Set(n, c, elem, dims, output: o);
        }
        return true;
    }

    private static bool Slice(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { } s) return Set(n, c, elem, null);
        long[]? starts, ends, axes, steps;
        if (c.Opset() < 10)
        {
            starts = n.GetInts("starts")?.ToArray();
            ends = n.GetInts("ends")?.ToArray();
            axes = n.GetInts(AttrNames.Axes)?.ToArray();
            steps = null;
        }
        else
        {
            starts = c.KnownInts(n.Input(1));
            ends = c.KnownInts(n.Input(2));
            axes = n.Input(3) == null ? null : c.KnownInts(n.Input(3)) ?? [-999];
            steps = n.Input(4) == null ? null : c.KnownInts(n.Input(4)) ?? [0];
        }
        if (starts == null || ends == null || axes is [-999] || steps is [0])
        {
            return Set(n, c, elem, axes is { } ax && ax[0] != -999 ? [.. s.Select((d, i) => ax.Any(a => Dims.Axis(a, s.Count) == i) ? Dim.Unknown : d)] : [.. s.Select(_ => Dim.Unknown)]);
        }
        axes ??= [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
        var dims = s.ToArray();
        var ranges = s.Select(d => (From: 0L, Step: 1L, Count: d.Value ?? -1)).ToArray();
        for (var k = 0; k < axes.Length; k++)
        {
            var axis = Dims.Axis(axes[k], s.Count);
            var step = steps != null ? steps[k] : 1;
            if (!s[axis].IsKnown) { dims[axis] = Dim.Unknown; continue; }
            var (from, count) = SliceRange(s[axis].Value!.Value, starts[k], ends[k], step);
            dims[axis] = Dim.Of(count);
            ranges[axis] = (from, step, count);
        }
        if (c.IntsOf(n.Input(0)) is { } values && c.StaticShapeOf(n.Input(0)) is { } full)
        {
            c.SetInts(n.Outputs[0], Gather(values, full, [.. ranges.Select(r => Enumerable.Range(0, (int)r.Count).Select(i => r.From + i * r.Step).ToArray())]));
        }
        return Set(n, c, elem, dims);
    }

    /// <summary>The elements of a row-major tensor at the cartesian product of per-axis index lists.</summary>
    private static Dim[] Gather(Dim[] values, long[] shape, long[][] indices)
    {
        var strides = new long[shape.Length];
        for (long i = shape.Length - 1, stride = 1; i >= 0; stride *= shape[i], i--) strides[i] = stride;
        var result = new List<Dim>();
        var position = new int[shape.Length];
        var total = indices.Aggregate(1L, (p, ix) => p * ix.Length);
        for (var k = 0; k < total; k++)
        {
            long offset = 0;
            for (var a = 0; a < shape.Length; a++) offset += indices[a][position[a]] * strides[a];
            result.Add(values[offset]);
            for (var a = shape.Length - 1; a >= 0 && ++position[a] == indices[a].Length; a--) position[a] = 0;
        }
        return [.. result];
    }

    /// <summary>First index and element count of <c>x[start:end:step]</c> over a length, with ONNX's clamping.</summary>
    private static (long From, long Count) SliceRange(long length, long start, long end, long step)
    {
        static long Clamp(long v, long length, long lo, long hi) => Math.Clamp(v < 0 ? v + length : v, lo, hi);
        if (step > 0)
        {
            var s = Clamp(start, length, 0, length);
            var e = Clamp(end, length, 0, length);
            return (s, Math.Max(0, (e - s + step - 1) / step));
        }
        var s2 = Clamp(start, length, -1, length - 1);
        var e2 = Clamp(end, length, -1, length - 1);
        return (s2, Math.Max(0, (s2 - e2 - step - 1) / -step));
    }

    private static bool Squeeze(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { } s) return Set(n, c, elem, null);
        var axes = AxesOf(n, c, 1, 13);
        if (axes is [-999]) return Set(n, c, elem, null);
        var drop = axes is { Length: > 0 } ? axes.Select(a => Dims.Axis(a, s.Count)).ToHashSet() : [.. Enumerable.Range(0, s.Count).Where(i => s[i].Value == 1)];
        if (axes is not { Length: > 0 } && s.Any(d => !d.IsKnown)) return Set(n, c, elem, null);
        if (c.IntsOf(n.Input(0)) is { } v) c.SetInts(n.Outputs[0], v);
        return Set(n, c, elem, [.. s.Where((_, i) => !drop.Contains(i))]);
    }

    private static bool Unsqueeze(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { } s) return Set(n, c, elem, null);
        var axes = AxesOf(n, c, 1, 13);
        if (axes is null or [-999]) return Set(n, c, elem, null);
        var rank = s.Count + axes.Length;
        var set = axes.Select(a => Dims.Axis(a, rank)).ToHashSet();
        var dims = new List<Dim>();
        var next = 0;
        for (var i = 0; i < rank; i++) dims.Add(set.Contains(i) ? Dim.Of(1) : s[next++]);
        if (c.IntsOf(n.Input(0)) is { } v) c.SetInts(n.Outputs[0], v);
        return Set(n, c, elem, dims);
    }

    private static bool Shape(Node n, InferenceContext c)
    {
        if (c.ShapeOf(n.Input(0)) is not { } s) return Set(n, c, TensorDataType.Int64, c.RankOf(n.Input(0)) is { } r ? [Dim.Of(r)] : [Dim.Unknown]);
        var start = (int)n.GetInt("start", 0);
        var end = (int)n.GetInt("end", s.Count);
        start = Math.Clamp(start < 0 ? start + s.Count : start, 0, s.Count);
        end = Math.Clamp(end < 0 ? end + s.Count : end, 0, s.Count);
        var values = s.Skip(start).Take(Math.Max(0, end - start)).ToArray();
        c.SetInts(n.Outputs[0], values);
        return Set(n, c, TensorDataType.Int64, [Dim.Of(values.Length)]);
    }

    private static bool Gather(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { } data || c.ShapeOf(n.Input(1)) is not { } idx) return Set(n, c, elem, null);
        var axis = Dims.Axis(n.GetInt(AttrNames.Axis, 0), data.Count);
        if (c.IntsOf(n.Input(0)) is { } values && data.Count == 1 && c.KnownInts(n.Input(1)) is { } picks)
        {
            var len = values.Length;
            if (picks.All(p => p >= -len && p < len)) c.SetInts(n.Outputs[0], [.. picks.Select(p => values[p < 0 ? p + len : p])]);
        }
        return Set(n, c, elem, [.. data.Take(axis), .. idx, .. data.Skip(axis + 1)]);
    }

    private static bool ConstantOfShape(Node n, InferenceContext c)
    {
        var value = n.GetTensor(AttrNames.Value);
        var elem = value?.DataType ?? TensorDataType.Float;
        if (c.IntsOf(n.Input(0)) is { } dims)
        {
            var count = dims.Aggregate(1L, (p, d) => d.IsKnown ? p * d.Value!.Value : -1);
            if (count is >= 0 and <= 64 && elem is TensorDataType.Int64 or TensorDataType.Int32)
            {
                c.SetInts(n.Outputs[0], [.. Enumerable.Repeat(Dim.Of(value!.ToInt64s()[0]), (int)count)]);
            }
            return Set(n, c, elem, dims);
        }
        return Set(n, c, elem, c.ShapeOf(n.Input(0)) is [{ IsKnown: true } len] ? [.. Enumerable.Repeat(Dim.Unknown, (int)len.Value!.Value)] : null);
    }

    private static bool Expand(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.IntsOf(n.Input(1)) is not { } target) return Set(n, c, elem, null);
        return Set(n, c, elem, Dims.Broadcast(c.ShapeOf(n.Input(0)), target));
    }

    private static bool Tile(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { } s || c.IntsOf(n.Input(1)) is not { } reps || reps.Length != s.Count) return Set(n, c, elem, null);
        return Set(n, c, elem, [.. s.Select((d, i) => Dims.Mul(d, reps[i]))]);
    }

    private static bool Range(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        var start = InferenceContext.ConstantOrDefault(n.Input(0));
        var limit = InferenceContext.ConstantOrDefault(n.Input(1));
        var delta = InferenceContext.ConstantOrDefault(n.Input(2));
        if (start == null || limit == null || delta == null) return Set(n, c, elem, [Dim.Unknown]);
        double s = start.ToSingles()[0], l = limit.ToSingles()[0], d = delta.ToSingles()[0];
        var count = d == 0 ? 0 : Math.Max(0, (long)Math.Ceiling((l - s) / d));
        return Set(n, c, elem, [Dim.Of(count)]);
    }

    private static bool Pad(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { } s) return Set(n, c, elem, null);
        var pads = c.Opset() >= 11 ? c.KnownInts(n.Input(1)) : n.GetInts("paddings")?.ToArray() ?? n.GetInts(AttrNames.Pads)?.ToArray();
        if (pads == null) return Set(n, c, elem, [.. s.Select(_ => Dim.Unknown)]);
        var axes = n.Input(3) != null ? c.KnownInts(n.Input(3)) : [.. Enumerable.Range(0, s.Count).Select(i => (long)i)];
        if (axes == null || pads.Length != 2 * axes.Length) return Set(n, c, elem, [.. s.Select(_ => Dim.Unknown)]);
        var dims = s.ToArray();
        for (var k = 0; k < axes.Length; k++)
        {
            var axis = Dims.Axis(axes[k], s.Count);
            dims[axis] = Dims.Add(dims[axis], Dim.Of(pads[k] + pads[k + axes.Length]));
        }
        return Set(n, c, elem, dims);
    }

    private static bool Resize(Node n, InferenceContext c)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { } s) return Set(n, c, elem, null);
        var opset = c.Opset();
        var unknown = s.Select(_ => Dim.Unknown).ToArray();
        if (n.Is(OpTypes.Resize) && opset >= 11 && n.Inputs.Count > 3 && n.Input(3) != null)
        {
            if (c.IntsOf(n.Input(3)) is not { } sizes) return Set(n, c, elem, unknown);
            if (sizes.Length == s.Count) return Set(n, c, elem, sizes);
            var axes = n.GetInts(AttrNames.Axes);
            if (axes == null || axes.Count != sizes.Length) return Set(n, c, elem, unknown);
            var dims = s.ToArray();
            for (var k = 0; k < axes.Count; k++) dims[Dims.Axis(axes[k], s.Count)] = sizes[k];
            return Set(n, c, elem, dims);
        }
        var scales = n.GetFloats("scales")?.ToArray() ?? c.ConstFloats(n.Input(n.Is(OpTypes.Resize) && opset >= 11 ? 2 : 1));
        if (scales == null || scales.Length != s.Count) return Set(n, c, elem, unknown);
        return Set(n, c, elem, [.. s.Select((d, i) => d.IsKnown ? Dim.Of((long)Math.Floor(d.Value!.Value * (double)scales[i])) : scales[i] == 1 ? d : Dim.Unknown)]);
    }

    private static bool SpaceDepth(Node n, InferenceContext c, bool toSpace)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { Count: 4 } s) return Set(n, c, elem, null);
        var b = n.GetInt("blocksize", 1);
        Dim Div(Dim d, long by) => d.IsKnown ? Dim.Of(d.Value!.Value / by) : Dim.Unknown;
        return toSpace
            ? Set(n, c, elem, [s[0], Div(s[1], b * b), Dims.Mul(s[2], Dim.Of(b)), Dims.Mul(s[3], Dim.Of(b))])
            : Set(n, c, elem, [s[0], Dims.Mul(s[1], Dim.Of(b * b)), Div(s[2], b), Div(s[3], b)]);
    }

    private static bool Recurrent(Node n, InferenceContext c, bool hasCell)
    {
        var elem = c.ElemOf(n.Input(0));
        if (c.ShapeOf(n.Input(0)) is not { Count: 3 } x) return false;
        var layout = n.GetInt("layout", 0);
        var (seq, batch) = layout == 0 ? (x[0], x[1]) : (x[1], x[0]);
        var dirs = Dim.Of(n.GetString("direction", "forward") == "bidirectional" ? 2 : 1);
        var hidden = n.GetAttribute("hidden_size") != null ? Dim.Of(n.GetInt("hidden_size", 0)) : Dim.Unknown;
        Set(n, c, elem, layout == 0 ? [seq, dirs, batch, hidden] : [batch, seq, dirs, hidden], output: 0);
        IReadOnlyList<Dim> state = layout == 0 ? [dirs, batch, hidden] : [batch, dirs, hidden];
        Set(n, c, elem, state, output: 1);
        if (hasCell) Set(n, c, elem, state, output: 2);
        return hidden.IsKnown;
    }

    private static bool If(Node n, InferenceContext c)
    {
        if (n.GetAttribute("then_branch")?.AsGraph() is not { } thenBranch || n.GetAttribute("else_branch")?.AsGraph() is not { } elseBranch) return false;
        Graph[] branches = [thenBranch, elseBranch];
        if (c.KnownInts(n.Input(0)) is [var taken])
        {
            var branch = branches[taken != 0 ? 0 : 1];
            for (var o = 0; o < n.Outputs.Count; o++)
            {
                if (c.SubgraphOutput(branch, o) is { } t) c.Set(n.Outputs[o], t);
                if (o < branch.Outputs.Count && c.IntsOf(branch.Outputs[o]) is { } ints) c.SetInts(n.Outputs[o], ints);
            }
            return n.Outputs.All(o => o == null || c.TypeOf(o)?.Shape != null);
        }
        for (var o = 0; o < n.Outputs.Count; o++)
        {
            var a = c.SubgraphOutput(branches[0], o);
            var b = c.SubgraphOutput(branches[1], o);
            if (a == null || b == null) continue;
            var shape = a.Shape != null && b.Shape != null && a.Shape.Count == b.Shape.Count
                ? a.Shape.Select((d, i) => d == b.Shape[i] ? d : Dim.Unknown).ToList()
                : null;
            c.Set(n.Outputs[o], a.ElementType, shape);
        }
        return n.Outputs.All(o => o == null || c.TypeOf(o)?.Shape != null);
    }

    private static bool LoopOrScan(Node n, InferenceContext c)
    {
        foreach (var o in n.Outputs)
        {
            if (o?.TensorType is { } t) c.Set(o, t);
        }
        return false;
    }
}
