namespace Gateway.Migrations;

/// <summary>
/// A folder of sqlx-style migration files and the bookkeeping table that records which of them ran.
/// </summary>
/// <remarks>
/// The orchestrator's set uses sqlx's own table, <c>_sqlx_migrations</c>. Gateway's own tables come as a
/// second set with a table of the same form but another name, so that the orchestrator's sqlx never
/// sees a version it has no file for.
/// </remarks>
public sealed record MigrationSet
{
    public const string SqlxBookkeepingTable = "_sqlx_migrations";
    public const string GatewayBookkeepingTable = "_gateway_migrations";

    public MigrationSet(string name, string sourceDirectory, string bookkeepingTable)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceDirectory);
        if (!IsPlainIdentifier(bookkeepingTable))
        {
            throw new ArgumentException(
                $"The bookkeeping table name '{bookkeepingTable}' must be letters, digits and underscores only.",
                nameof(bookkeepingTable));
        }

        Name = name;
        SourceDirectory = sourceDirectory;
        BookkeepingTable = bookkeepingTable;
    }

    /// <summary>A short name used in messages, such as "orchestrator".</summary>
    public string Name { get; }

    public string SourceDirectory { get; }

    /// <summary>The table name is spliced into SQL, so it is restricted to a plain identifier.</summary>
    public string BookkeepingTable { get; }

    /// <summary>The orchestrator's schema, recorded in sqlx's own <c>_sqlx_migrations</c>.</summary>
    public static MigrationSet Orchestrator(string sourceDirectory) =>
        new("orchestrator", sourceDirectory, SqlxBookkeepingTable);

    private static bool IsPlainIdentifier(string value) =>
        !string.IsNullOrEmpty(value)
        && (char.IsAsciiLetter(value[0]) || value[0] == '_')
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
