using System.Diagnostics.CodeAnalysis;

namespace Gateway.Data.Entities;

/// <summary>
/// configurations.value_type: how the TEXT value is to be read. Stored as string, integer, float, boolean, json,
/// exactly the CHECK set of the configurations table.
/// </summary>
[SuppressMessage(
    "Naming",
    "CA1720:Identifier contains type name",
    Justification = "The member names are the stored values the schema's CHECK lists (string, integer, float, boolean, json).")]
public enum ConfigurationValueType
{
    String = 0,
    Integer,
    Float,
    Boolean,
    Json,
}
