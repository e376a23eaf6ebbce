using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations;

/// <summary>sqlx's SQLite bookkeeping (sqlx-sqlite migrate.rs), statement for statement.</summary>
public sealed class SqliteMigrationStore : DbMigrationStore
{
    /// <param name="connection">Opened here if closed; the caller owns it (an in-memory database lives as long as it).</param>
    public SqliteMigrationStore(SqliteConnection connection, string bookkeepingTable)
        : base(connection, bookkeepingTable)
    {
    }

    protected override string TableExistsSql => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = @name";

    // Exactly sqlx's definition, so sqlx accepts a table Gateway created.
    protected override string CreateTableSql =>
        $"""
         CREATE TABLE IF NOT EXISTS {Table} (
             version BIGINT PRIMARY KEY,
             description TEXT NOT NULL,
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
             success BOOLEAN NOT NULL,
             checksum BLOB NOT NULL,
             execution_time BIGINT NOT NULL
         );
         """;

    protected override string ReadInstalledOn(DbDataReader reader, int ordinal) => reader.GetString(ordinal);

    protected override string? DescribeFailure(DbException exception) => exception is SqliteException ? exception.Message : null;
}
