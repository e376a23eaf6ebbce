namespace Gateway.Data.Entities;

/// <summary>A row of <c>configurations</c>: a key-value setting whose TEXT value is read by <see cref="ValueType"/>.</summary>
public sealed class ConfigurationEntry
{
    public required string Key { get; set; }

    public required string Value { get; set; }

    public ConfigurationValueType ValueType { get; set; } = ConfigurationValueType.String;

    public string? Description { get; set; }

    /// <summary>is_secret: INTEGER 0/1. A secret's value is never sent in clear to those who may not read it.</summary>
    public bool IsSecret { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>Set on insert (when unset) and on every update; the optimistic concurrency token.</summary>
    public DateTime UpdatedAt { get; set; }
}
