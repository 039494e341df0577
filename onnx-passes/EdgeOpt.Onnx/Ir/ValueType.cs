namespace EdgeOpt.Onnx.Ir;

/// <summary>One dimension of a tensor shape: a fixed size, a symbolic name, or unknown.</summary>
public readonly record struct Dim(long? Value, string? Param, string? Denotation = null)
{
    public static Dim Of(long value) => new(value, null);
    public static Dim Symbolic(string name) => new(null, name);
    public static readonly Dim Unknown = new(null, null);

    public bool IsKnown => Value.HasValue;

    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Param ?? "?";
}

/// <summary>The type of a value: tensor, sequence, map, optional or sparse tensor. Immutable.</summary>
public abstract class ValueType
{
    protected ValueType(string? denotation) => Denotation = denotation;

    /// <summary>Optional type denotation (e.g. IMAGE), kept as read.</summary>
    public string? Denotation { get; }

    /// <summary>The proto this type was decoded from; set by the reader so an unchanged type is written back unchanged.</summary>
    internal Proto.TypeProto? Origin { get; set; }
}

/// <summary>A dense tensor type; <see cref="Shape"/> is null when the rank is unknown.</summary>
public sealed class TensorType(TensorDataType elementType, IReadOnlyList<Dim>? shape, string? denotation = null) : ValueType(denotation)
{
    public TensorDataType ElementType { get; } = elementType;
    public IReadOnlyList<Dim>? Shape { get; } = shape;

    public int? Rank => Shape?.Count;

    /// <summary>All dimensions fixed: the shape as numbers; otherwise null.</summary>
    public long[]? StaticShape => Shape != null && Shape.All(d => d.IsKnown) ? [.. Shape.Select(d => d.Value!.Value)] : null;

    public static TensorType Of(TensorDataType elementType, params long[] dims) => new(elementType, [.. dims.Select(Dim.Of)]);

    public override string ToString() =>
        $"{TensorDataTypes.OnnxName(ElementType)}[{(Shape == null ? "?" : string.Join(",", Shape))}]";
}

/// <summary>A sparse tensor type.</summary>
public sealed class SparseTensorType(TensorDataType elementType, IReadOnlyList<Dim>? shape, string? denotation = null) : ValueType(denotation)
{
    public TensorDataType ElementType { get; } = elementType;
    public IReadOnlyList<Dim>? Shape { get; } = shape;

    public override string ToString() =>
        $"sparse {TensorDataTypes.OnnxName(ElementType)}[{(Shape == null ? "?" : string.Join(",", Shape))}]";
}

/// <summary>A sequence of values of one type.</summary>
public sealed class SequenceType(ValueType? elementType, string? denotation = null) : ValueType(denotation)
{
    public ValueType? ElementType { get; } = elementType;
    public override string ToString() => $"seq({ElementType})";
}

/// <summary>A map from a key tensor type to values of one type.</summary>
public sealed class MapType(TensorDataType keyType, ValueType? valueType, string? denotation = null) : ValueType(denotation)
{
    public TensorDataType KeyType { get; } = keyType;
    public ValueType? ValueTypeOfEntries { get; } = valueType;
    public override string ToString() => $"map({TensorDataTypes.OnnxName(KeyType)},{ValueTypeOfEntries})";
}

/// <summary>An optional value of one type.</summary>
public sealed class OptionalType(ValueType? elementType, string? denotation = null) : ValueType(denotation)
{
    public ValueType? ElementType { get; } = elementType;
    public override string ToString() => $"optional({ElementType})";
}

/// <summary>A type whose kind was not set in the file (kept so it round-trips).</summary>
public sealed class UnspecifiedType(string? denotation = null) : ValueType(denotation)
{
    public override string ToString() => "?";
}
