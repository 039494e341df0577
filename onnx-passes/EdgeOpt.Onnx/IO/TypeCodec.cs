using EdgeOpt.Onnx.Ir;
using EdgeOpt.Onnx.Proto;
using ValueType = EdgeOpt.Onnx.Ir.ValueType;

namespace EdgeOpt.Onnx.IO;

/// <summary>Converts between <see cref="TypeProto"/> and the IR's <see cref="ValueType"/>.</summary>
internal static class TypeCodec
{
    public static ValueType Decode(TypeProto p)
    {
        var denotation = p.HasDenotation ? p.Denotation : null;
        ValueType t = p.ValueCase switch
        {
            TypeProto.ValueOneofCase.TensorType => new TensorType((TensorDataType)p.TensorType.ElemType, DecodeShape(p.TensorType.Shape), denotation),
            TypeProto.ValueOneofCase.SparseTensorType => new SparseTensorType((TensorDataType)p.SparseTensorType.ElemType, DecodeShape(p.SparseTensorType.Shape), denotation),
            TypeProto.ValueOneofCase.SequenceType => new SequenceType(DecodeOrNull(p.SequenceType.ElemType), denotation),
            TypeProto.ValueOneofCase.MapType => new MapType((TensorDataType)p.MapType.KeyType, DecodeOrNull(p.MapType.ValueType), denotation),
            TypeProto.ValueOneofCase.OptionalType => new OptionalType(DecodeOrNull(p.OptionalType.ElemType), denotation),
            _ => new UnspecifiedType(denotation),
        };
        t.Origin = p;
        return t;
    }

    private static ValueType? DecodeOrNull(TypeProto? p) => p == null ? null : Decode(p);

    private static Dim[]? DecodeShape(TensorShapeProto? shape) =>
        shape == null
            ? null
            : [.. shape.Dim.Select(d => new Dim(
                d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : null,
                d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : null,
                d.HasDenotation ? d.Denotation : null))];

    public static TypeProto Encode(ValueType t)
    {
        if (t.Origin != null) return t.Origin;
        var p = new TypeProto();
        if (t.Denotation != null) p.Denotation = t.Denotation;
        switch (t)
        {
            case TensorType tt:
                p.TensorType = new TypeProto.Types.Tensor { ElemType = (int)tt.ElementType, Shape = EncodeShape(tt.Shape) };
                break;
            case SparseTensorType st:
                p.SparseTensorType = new TypeProto.Types.SparseTensor { ElemType = (int)st.ElementType, Shape = EncodeShape(st.Shape) };
                break;
            case SequenceType sq:
                p.SequenceType = new TypeProto.Types.Sequence { ElemType = sq.ElementType == null ? null : Encode(sq.ElementType) };
                break;
            case MapType m:
                p.MapType = new TypeProto.Types.Map { KeyType = (int)m.KeyType, ValueType = m.ValueTypeOfEntries == null ? null : Encode(m.ValueTypeOfEntries) };
                break;
            case OptionalType o:
                p.OptionalType = new TypeProto.Types.Optional { ElemType = o.ElementType == null ? null : Encode(o.ElementType) };
                break;
        }
        return p;
    }

    private static TensorShapeProto? EncodeShape(IReadOnlyList<Dim>? shape)
    {
        if (shape == null) return null;
        var s = new TensorShapeProto();
        foreach (var d in shape)
        {
            var pd = new TensorShapeProto.Types.Dimension();
            if (d.Value.HasValue) pd.DimValue = d.Value.Value;
            else if (d.Param != null) pd.DimParam = d.Param;
            if (d.Denotation != null) pd.Denotation = d.Denotation;
            s.Dim.Add(pd);
        }
        return s;
    }
}
