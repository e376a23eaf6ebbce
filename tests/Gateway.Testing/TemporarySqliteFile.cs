using Gateway.Migrations;
using Microsoft.Data.Sqlite;

namespace Gateway.Testing;

/// <summary>A real SQLite file in its own temporary folder, deleted with the folder on dispose.</summary>
public sealed class TemporarySqliteFile : ITestDatabase
{
    public TemporarySqliteFile(string name = "test.db")
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gateway-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Path = System.IO.Path.Combine(Directory, name);
    }

    public string Directory { get; }

    public string Path { get; }

    /// <summary>The URL form the CLI and the server take.</summary>
    public string DatabaseUrl => $"sqlite:{Path}";

    /// <summary>Foreign keys on, as Gateway opens it; pooling off so the file can be deleted at the end.</summary>
    public string ConnectionString => new SqliteConnectionStringBuilder
    {
        DataSource = Path,
        ForeignKeys = true,
        Pooling = false,
    }.ConnectionString;

    public bool IsPostgres => false;

    public System.Data.Common.DbConnection OpenConnection() => Open();

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Applies the orchestrator's seven migrations from the repository with Gateway's runner.</summary>
    public async Task<SqliteConnection> OpenMigratedAsync(CancellationToken cancellationToken = default)
    {
        var connection = Open();
        var migrator = new Migrator(
            MigrationSet.Orchestrator(RepositoryPaths.SqliteMigrations),
            new SqliteMigrationStore(connection, MigrationSet.SqlxBookkeepingTable));
        await migrator.RunAsync(targetVersion: null, cancellationToken);
        return connection;
    }

    /// <summary>Applies both sets, the orchestrator's and Gateway's own, as the server does at start.</summary>
    public async Task<SqliteConnection> OpenFullyMigratedAsync(CancellationToken cancellationToken = default)
    {
        var connection = await OpenMigratedAsync(cancellationToken);
        var gateway = new MigrationSet("gateway", RepositoryPaths.GatewaySqliteMigrations, MigrationSet.GatewayBookkeepingTable);
        await new Migrator(gateway, new SqliteMigrationStore(connection, gateway.BookkeepingTable)).RunAsync(targetVersion: null, cancellationToken);
        return connection;
    }

    /// <summary>
    /// Takes the database's write lock (<c>BEGIN IMMEDIATE</c> on a connection of its own) until disposed, as another
    /// process writing would: the gateway's writers wait for it or give up with database_busy.
    /// </summary>
    public IDisposable HoldWriteLock() => new WriteLock(Open());

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open on a slow teardown is left in the temp folder rather than failing the test.
        }
    }

    private sealed class WriteLock : IDisposable
    {
        private readonly SqliteConnection _connection;

        public WriteLock(SqliteConnection connection)
        {
            _connection = connection;
            try
            {
                Execute("BEGIN IMMEDIATE");
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            try
            {
                Execute("ROLLBACK");
            }
            finally
            {
                _connection.Dispose();
            }
        }

        private void Execute(string sql)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }
    }
}
