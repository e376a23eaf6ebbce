using System.Data.Common;
using Gateway.Data.Interceptors;
using Gateway.Data.Conversion;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gateway.Server.Database;

/// <summary>
/// Connections to the gateway's database for the code that speaks ADO.NET (the registry, health, start-up), whatever
/// the provider: SQLite files opened with Gateway's settings, or PostgreSQL through the one <see cref="NpgsqlDataSource"/>
/// (one pool for EF Core and everything else). Also the few things in which the two differ for such code: how a
/// timestamp is bound and read (SQLite: Gateway's UTC text; PostgreSQL: TIMESTAMPTZ).
/// </summary>
internal sealed class DatabaseConnections
{
    private readonly DatabaseLocation _database;
    private readonly NpgsqlDataSource? _dataSource;

    public DatabaseConnections(DatabaseLocation database, NpgsqlDataSource? dataSource)
    {
        if (database.IsPostgres && dataSource is null)
        {
            throw new ArgumentNullException(nameof(dataSource), "a PostgreSQL database needs its data source");
        }

        _database = database;
        _dataSource = dataSource;
    }

    public bool IsPostgres => _database.IsPostgres;

    /// <summary>The PostgreSQL data source; only for a PostgreSQL database.</summary>
    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("not a PostgreSQL database");

    /// <summary>A new, closed connection (PostgreSQL: of the data source's pool).</summary>
    public DbConnection Create() => _dataSource is not null ? _dataSource.CreateConnection() : new SqliteConnection(_database.ConnectionString);

    /// <summary>An open connection; on SQLite with its busy timeout, so it waits for another writer's lock.</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_dataSource is not null)
        {
            return await _dataSource.OpenConnectionAsync(cancellationToken);
        }

        var connection = new SqliteConnection(_database.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            GatewaySqliteSettings.Apply(connection);
            Sessions.SqliteBusyTimeout.Apply(connection);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>A timestamp as this provider's columns take it.</summary>
    public object Timestamp(DateTime at) => IsPostgres ? UtcMicrosecondConverter.ToStore(at) : UtcDateTimeConverter.Format(at);

    /// <summary>A timestamp column read back as UTC.</summary>
    public DateTime ReadTimestamp(DbDataReader reader, int ordinal) => IsPostgres
        ? DateTime.SpecifyKind(reader.GetFieldValue<DateTime>(ordinal), DateTimeKind.Utc)
        : UtcDateTimeConverter.Parse(reader.GetString(ordinal));
}
