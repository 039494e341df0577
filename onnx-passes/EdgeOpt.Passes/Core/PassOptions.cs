namespace EdgeOpt.Passes.Core;

/// <summary>
/// Base of every pass's typed options record. Properties carry defaults and an <see cref="OptionAttribute"/>
/// with a one-line description; <see cref="Validate"/> yields one message per bad value.
/// </summary>
public abstract record PassOptions
{
    /// <summary>Problems with the values (empty when valid).</summary>
    public virtual IEnumerable<string> Validate() => [];

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem, if any.</summary>
    public void ThrowIfInvalid(string passId)
    {
        var problems = Validate().ToList();
        if (problems.Count > 0) throw new ArgumentException($"invalid options for pass '{passId}': {string.Join("; ", problems)}");
    }
}

/// <summary>Options of passes that take none.</summary>
public sealed record NoOptions : PassOptions
{
    public static NoOptions Instance { get; } = new();
}

/// <summary>Describes one option of a pass (shown by <c>edgeopt passes</c>).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string description) : Attribute
{
    public string Description { get; } = description;
}
