namespace Gateway.Server.Database;

/// <summary>Where the gateway's database is. Bound from the "Database" section.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary>The variable sqlx-cli reads; when set it wins over <see cref="Url"/>, so the CLI and the server share one database.</summary>
    public const string DatabaseUrlVariable = "DATABASE_URL";

    /// <summary>A database URL in sqlx's form (<c>sqlite:path.db</c>). Empty: a file in <see cref="DataDirectory"/>.</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>Folder of the default database file, relative to the working directory; created on first start.</summary>
    public string DataDirectory { get; set; } = "data";

    public string FileName { get; set; } = "gateway.db";

    /// <summary>How long a writer waits for SQLite's lock before it fails (Microsoft.Data.Sqlite's Default Timeout).</summary>
    public int BusyTimeoutSeconds { get; set; } = 5;

    /// <summary>
    /// PostgreSQL: how long a transaction of this node may stay idle (between two of its statements) before the server
    /// ends it (<c>idle_in_transaction_session_timeout</c>); 0 leaves the server's setting. A node that stalls while
    /// it holds the event log's lock would otherwise stop every node's appends for as long as it stalls.
    /// </summary>
    public int IdleTransactionTimeoutSeconds { get; set; } = 5;
}
