using System.Collections;

namespace EdgeOpt.Runtime;

/// <summary>
/// The values a run returned, in the order asked for, with their names. Owns them: disposing this disposes every
/// value (spans read from them become invalid).
/// </summary>
public sealed class SessionOutputs : IReadOnlyList<OrtValue>, IDisposable
{
    private readonly OrtValue[] _values;

    internal SessionOutputs(string[] names, OrtValue[] values)
    {
        Names = names;
        _values = values;
    }

    /// <summary>The output names, in the order of the values.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The number of outputs.</summary>
    public int Count => _values.Length;

    /// <summary>The output at <paramref name="index"/>.</summary>
    public OrtValue this[int index] => _values[index];

    /// <summary>The value of the output named <paramref name="name"/>.</summary>
    public OrtValue this[string name]
    {
        get
        {
            for (var i = 0; i < _values.Length; i++)
            {
                if (Names[i] == name) return _values[i];
            }
            throw new KeyNotFoundException($"no output named '{name}'; the outputs are {string.Join(", ", Names.Select(n => $"'{n}'"))}");
        }
    }

    /// <summary>The outputs in order.</summary>
    public IEnumerator<OrtValue> GetEnumerator() => ((IEnumerable<OrtValue>)_values).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Disposes every output value.</summary>
    public void Dispose()
    {
        foreach (var v in _values) v.Dispose();
    }
}
