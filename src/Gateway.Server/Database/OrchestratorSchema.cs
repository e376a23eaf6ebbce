using System.Text.RegularExpressions;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Gateway.Server.Database;

/// <summary>
/// What Gateway needs of the orchestrator's six tables and what it learns from them at start, for a database whose
/// schema another migrator may own (<c>Migrations:Orchestrator=external</c>): the tables and columns its EF model maps,
/// columns it never writes that would refuse its inserts, and the values each enum column's CHECK allows.
/// </summary>
internal static partial class OrchestratorSchema
{
    /// <summary>
    /// Each table and column the EF model maps outside Gateway's own tables (those start with <c>gateway_</c> and are
    /// Gateway's migration set's), plus columns the table has that Gateway never writes and that have no default
    /// (its inserts would fail). Empty when the database serves.
    /// </summary>
    public static async Task<IReadOnlyList<string>> FindProblemsAsync(DbConnection connection, IModel model, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var (table, columns) in RequiredColumns(model))
        {
            var present = await ColumnsAsync(connection, table, cancellationToken);
            if (present.Count == 0)
            {
                problems.Add($"table {table} (with columns {string.Join(", ", columns)})");
                continue;
            }

            problems.AddRange(columns.Where(column => !present.ContainsKey(column)).Select(column => $"column {table}.{column}"));
            problems.AddRange(present
                .Where(column => !columns.Contains(column.Key) && column.Value.NotNull && !column.Value.HasDefault && !column.Value.PrimaryKey)
                .Select(column => $"a default for {table}.{column.Key} (NOT NULL, and Gateway does not write it)"));
        }

        return problems;
    }

    /// <summary>The orchestrator's tables the model maps, each with its mapped columns.</summary>
    public static IReadOnlyList<(string Table, IReadOnlySet<string> Columns)> RequiredColumns(IModel model) =>
        model.GetEntityTypes()
            .Select(entity => (Entity: entity, Table: entity.GetTableName()))
            .Where(e => e.Table is not null && !e.Table.StartsWith("gateway_", StringComparison.Ordinal))
            .Select(e => (e.Table!, (IReadOnlySet<string>)e.Entity.GetProperties()
                .Select(p => p.GetColumnName(StoreObjectIdentifier.Table(e.Table!, e.Entity.GetSchema())))
                .OfType<string>()
                .ToHashSet(StringComparer.Ordinal)))
            .OrderBy(e => e.Item1, StringComparer.Ordinal)
            .ToList();

    /// <summary>The values the database's CHECK constraints allow in each enum column Gateway writes.</summary>
    public static async Task<SchemaValueSets> LearnValuesAsync(DbConnection connection, CancellationToken cancellationToken) => new(
        await AllowedAsync<AgentTaskStatus>(connection, "tasks", "status", cancellationToken),
        await AllowedAsync<WorkflowStatus>(connection, "workflows", "status", cancellationToken),
        await AllowedAsync<ToolExecutionStatus>(connection, "tool_executions", "status", cancellationToken),
        await AllowedAsync<SessionConnectionType>(connection, "sessions", "connection_type", cancellationToken),
        await AllowedAsync<ConfigurationValueType>(connection, "configurations", "value_type", cancellationToken));

    /// <summary>
    /// The values of <typeparamref name="TEnum"/> that every <c>column IN ('a', 'b')</c> of the table's definition
    /// allows (several CHECKs narrow each other); all of them when no CHECK names the column. Values the CHECK allows
    /// that Gateway does not know are left out: it never writes them.
    /// </summary>
    private static async Task<IReadOnlySet<TEnum>> AllowedAsync<TEnum>(DbConnection connection, string table, string column, CancellationToken cancellationToken)
        where TEnum : struct, Enum
    {
        var all = Enum.GetValues<TEnum>().ToHashSet();
        var sql = await TableSqlAsync(connection, table, cancellationToken);
        if (sql is null)
        {
            return all;
        }

        foreach (Match match in InList(column).Matches(sql).Concat(AnyOfArray(column).Matches(sql)))
        {
            var listed = QuotedValue().Matches(match.Groups["values"].Value)
                .Select(value => value.Groups[1].Value.Replace("''", "'", StringComparison.Ordinal))
                .ToHashSet(StringComparer.Ordinal);
            all.RemoveWhere(value => !listed.Contains(StoreEnum.ToStoreValue(value)));
        }

        return all;
    }

    private static Regex InList(string column) => new(
        $@"(?<![\w.""`\]])[""`\[]?{Regex.Escape(column)}[""`\]]?\s+IN\s*\((?<values>\s*'(?:[^']|'')*'(?:\s*,\s*'(?:[^']|'')*')*\s*)\)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>PostgreSQL's rendering of <c>column IN ('a', 'b')</c>: <c>(column = ANY (ARRAY['a'::text, 'b'::text]))</c>.</summary>
    private static Regex AnyOfArray(string column) => new(
        $@"(?<![\w.""])""?{Regex.Escape(column)}""?\)?(?:::[\w ]+)?\s*=\s*ANY\s*\(+ARRAY\[(?<values>(?:[^\]']|'(?:[^']|'')*')*)\]",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    [GeneratedRegex("'((?:[^']|'')*)'")]
    private static partial Regex QuotedValue();

    /// <summary>SQLite: the table's CREATE statement. PostgreSQL: its CHECK constraints as the server renders them.</summary>
    private static async Task<string?> TableSqlAsync(DbConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = connection.Command(connection is SqliteConnection
            ? "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = @name"
            : "SELECT string_agg(pg_get_constraintdef(oid), ' ') FROM pg_constraint WHERE conrelid = to_regclass(@name) AND contype = 'c'")
            .With("@name", table);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>SQLite answers integers, PostgreSQL booleans.</summary>
    private static bool Flag(object value) => value is bool flag ? flag : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) != 0;

    private static async Task<Dictionary<string, (bool NotNull, bool HasDefault, bool PrimaryKey)>> ColumnsAsync(
        DbConnection connection, string table, CancellationToken cancellationToken)
    {
        var columns = new Dictionary<string, (bool, bool, bool)>(StringComparer.Ordinal);
        // pragma_table_info and to_regclass take the table name as a bound value.
        await using var command = connection.Command(connection is SqliteConnection
            ? "SELECT name, \"notnull\", dflt_value IS NOT NULL, pk FROM pragma_table_info(@table)"
            : """
              SELECT a.attname, a.attnotnull, a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '',
                     EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary AND a.attnum = ANY (i.indkey))
              FROM pg_attribute a WHERE a.attrelid = to_regclass(@table) AND a.attnum > 0 AND NOT a.attisdropped
              """)
            .With("@table", table);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            columns[reader.GetString(0)] = (Flag(reader.GetValue(1)), Flag(reader.GetValue(2)), Flag(reader.GetValue(3)));
        }

        return columns;
    }
}

/// <summary>The values a database allows in each enum column Gateway writes (from its CHECK constraints).</summary>
internal sealed record SchemaValueSets(
    IReadOnlySet<AgentTaskStatus> TaskStatuses,
    IReadOnlySet<WorkflowStatus> WorkflowStatuses,
    IReadOnlySet<ToolExecutionStatus> ToolExecutionStatuses,
    IReadOnlySet<SessionConnectionType> ConnectionTypes,
    IReadOnlySet<ConfigurationValueType> ValueTypes)
{
    /// <summary>Gateway's own schema: every value.</summary>
    public static SchemaValueSets All { get; } = new(
        Enum.GetValues<AgentTaskStatus>().ToHashSet(),
        Enum.GetValues<WorkflowStatus>().ToHashSet(),
        Enum.GetValues<ToolExecutionStatus>().ToHashSet(),
        Enum.GetValues<SessionConnectionType>().ToHashSet(),
        Enum.GetValues<ConfigurationValueType>().ToHashSet());

    /// <summary>What Gateway cannot work without: its first writes of each kind. Empty when the database has them.</summary>
    public IReadOnlyList<string> Missing()
    {
        var missing = new List<string>();
        Require(missing, "tasks.status", TaskStatuses, AgentTaskStatus.Pending, AgentTaskStatus.Running, AgentTaskStatus.Completed, AgentTaskStatus.Failed, AgentTaskStatus.Cancelled);
        Require(missing, "workflows.status", WorkflowStatuses, WorkflowStatus.Draft, WorkflowStatus.Active);
        Require(missing, "tool_executions.status", ToolExecutionStatuses, ToolExecutionStatus.Running, ToolExecutionStatus.Completed, ToolExecutionStatus.Failed);
        Require(missing, "sessions.connection_type", ConnectionTypes, SessionConnectionType.Websocket);
        if (!ConnectionTypes.Contains(SessionConnectionType.Http)
            && !(ConnectionTypes.Contains(SessionConnectionType.ServerSentEvents) && ConnectionTypes.Contains(SessionConnectionType.LongPolling)))
        {
            missing.Add("sessions.connection_type: http (or both server_sent_events and long_polling)");
        }

        Require(missing, "configurations.value_type", ValueTypes, ConfigurationValueType.String);
        return missing;
    }

    /// <summary>Where this database allows less than Gateway's own schema, e.g. <c>tasks.status: pending, running, ...</c>.</summary>
    public IEnumerable<string> Narrowed()
    {
        if (Describe("tasks.status", TaskStatuses) is { } tasks)
        {
            yield return tasks;
        }

        if (Describe("workflows.status", WorkflowStatuses) is { } workflows)
        {
            yield return workflows;
        }

        if (Describe("tool_executions.status", ToolExecutionStatuses) is { } tools)
        {
            yield return tools;
        }

        if (Describe("sessions.connection_type", ConnectionTypes) is { } sessions)
        {
            yield return sessions;
        }

        if (Describe("configurations.value_type", ValueTypes) is { } types)
        {
            yield return types;
        }
    }

    /// <summary><c>tasks.status allows only pending, running, completed, failed, cancelled</c>: a refusal's reason.</summary>
    public static string Limit<TEnum>(string column, IReadOnlySet<TEnum> allowed)
        where TEnum : struct, Enum =>
        $"this database's {column} CHECK allows only {string.Join(", ", Ordered(allowed))}";

    /// <summary>The stored values, in Gateway's order.</summary>
    public static IReadOnlyList<string> Ordered<TEnum>(IReadOnlySet<TEnum> allowed)
        where TEnum : struct, Enum =>
        Enum.GetValues<TEnum>().Where(allowed.Contains).Select(StoreEnum.ToStoreValue).ToList();

    private static string? Describe<TEnum>(string column, IReadOnlySet<TEnum> allowed)
        where TEnum : struct, Enum =>
        allowed.Count == Enum.GetValues<TEnum>().Length ? null : $"{column}: {string.Join(", ", Ordered(allowed))}";

    private static void Require<TEnum>(List<string> missing, string column, IReadOnlySet<TEnum> allowed, params TEnum[] required)
        where TEnum : struct, Enum
    {
        var absent = required.Where(value => !allowed.Contains(value)).Select(StoreEnum.ToStoreValue).ToList();
        if (absent.Count > 0)
        {
            missing.Add($"{column}: {string.Join(", ", absent)}");
        }
    }
}

/// <summary>
/// The value sets of the database this node serves, learnt at start (<see cref="StartupMigration"/>); until then, and
/// on Gateway's own schema, every value. Every write of an enum column goes through it, so that Gateway never writes a
/// value the database would refuse: it maps where the mapping is honest and refuses, naming the limit, where not.
/// </summary>
internal sealed class SchemaValues
{
    private volatile SchemaValueSets _sets = SchemaValueSets.All;

    public SchemaValueSets Sets => _sets;

    public void Learn(SchemaValueSets sets) => _sets = sets;

    public bool Allows(AgentTaskStatus status) => _sets.TaskStatuses.Contains(status);

    public bool Allows(WorkflowStatus status) => _sets.WorkflowStatuses.Contains(status);

    public bool Allows(ToolExecutionStatus status) => _sets.ToolExecutionStatuses.Contains(status);

    public bool Allows(ConfigurationValueType type) => _sets.ValueTypes.Contains(type);

    /// <summary>
    /// Whether a finished workflow run can be recorded (completed, failed or cancelled): the orchestrator's schema has
    /// none of them, and ends a workflow by archiving it.
    /// </summary>
    public bool RecordsWorkflowOutcomes => _sets.WorkflowStatuses.Contains(WorkflowStatus.Completed);

    /// <summary>
    /// The connection_type a transport is recorded with: its own where the schema has it, else <c>http</c> (SSE and
    /// long polling are HTTP transports; the session's metadata keeps the real one).
    /// </summary>
    public string ConnectionTypeOf(SessionConnectionType transport) =>
        StoreEnum.ToStoreValue(_sets.ConnectionTypes.Contains(transport) ? transport : SessionConnectionType.Http);

    public string Limit(AgentTaskStatus _) => SchemaValueSets.Limit("tasks.status", _sets.TaskStatuses);

    public string Limit(WorkflowStatus _) => SchemaValueSets.Limit("workflows.status", _sets.WorkflowStatuses);

    public string Limit(ToolExecutionStatus _) => SchemaValueSets.Limit("tool_executions.status", _sets.ToolExecutionStatuses);

    public string Limit(ConfigurationValueType _) => SchemaValueSets.Limit("configurations.value_type", _sets.ValueTypes);

    public override string ToString() => string.Join("; ", _sets.Narrowed().DefaultIfEmpty("every value of Gateway's schema"));
}
