using Gateway.Migrations;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Database;

/// <summary>
/// Brings the database up to date before the server accepts clients, or refuses to start and says why:
/// a dirty or changed database, an unknown version, or pending migrations with ApplyAtStartup off.
/// </summary>
internal sealed partial class StartupMigration
{
    private readonly DatabaseLocation _database;
    private readonly DatabaseConnections _connections;
    private readonly MigrationOptions _options;
    private readonly DatabaseOptions _databaseOptions;
    private readonly SchemaValues _schema;
    private readonly IDbContextFactory<Gateway.Data.GatewayDbContext> _contexts;
    private readonly ILogger<StartupMigration> _logger;

    public StartupMigration(
        DatabaseLocation database,
        DatabaseConnections connections,
        IOptions<MigrationOptions> options,
        IOptions<DatabaseOptions> databaseOptions,
        SchemaValues schema,
        IDbContextFactory<Gateway.Data.GatewayDbContext> contexts,
        ILogger<StartupMigration> logger)
    {
        _schema = schema;
        _contexts = contexts;
        _database = database;
        _connections = connections;
        _options = options.Value;
        _databaseOptions = databaseOptions.Value;
        _logger = logger;
    }

    /// <returns>False when the server must not start; the reason is logged.</returns>
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        if (_options.OrchestratorProblem is { } setting)
        {
            LogSettingRefused(setting);
            return false;
        }

        try
        {
            if (!_database.IsPostgres)
            {
                foreach (var narrowed in await SqliteDatabasePreparation.PrepareAsync(_database.Builder, cancellationToken))
                {
                    LogPermissionsNarrowed(narrowed.ToString());
                }

                WarnOfOpenDataFolder();
            }

            // On PostgreSQL each set's run holds sqlx's migration lock (Migrator), so nodes starting together and the
            // orchestrator's own migrator never migrate at once.
            await using var connection = _connections.Create();
            if (_options.OrchestratorIsExternal && !await OrchestratorSchemaServesAsync(connection, cancellationToken))
            {
                return false;
            }

            var migrators = GatewayMigrationSets.CreateAll(connection, _options);
            if (_options.ApplyAtStartup)
            {
                // Validate every set before applying any, so a refusal changes nothing.
                foreach (var migrator in migrators)
                {
                    await GatewayMigrationSets.ValidateAsync(migrator, cancellationToken);
                }

                var total = 0;
                foreach (var migrator in migrators)
                {
                    foreach (var migration in await migrator.RunAsync(targetVersion: null, cancellationToken))
                    {
                        LogApplied(migrator.Set.Name, migration.Version, migration.Description);
                        total++;
                    }
                }

                if (!await LearnValuesAsync(connection, cancellationToken))
                {
                    return false;
                }

                await ProbeWritableAsync(connection, cancellationToken);
                LogUpToDate(_database.Shown, total);
                return true;
            }

            var pending = 0;
            foreach (var migrator in migrators)
            {
                var status = await GatewayMigrationSets.ValidateAsync(migrator, cancellationToken);
                pending += status.Migrations.Count(m => !status.Applied.ContainsKey(m.Version));
            }

            if (pending > 0)
            {
                LogPendingRefused(pending, _database.Shown);
                return false;
            }

            if (!await LearnValuesAsync(connection, cancellationToken))
            {
                return false;
            }

            await ProbeWritableAsync(connection, cancellationToken);
            LogUpToDate(_database.Shown, 0);
            return true;
        }
        catch (MigrationException exception)
        {
            LogRefused(exception.Kind, exception.Message);
            return false;
        }
        catch (SqliteException exception) when (Unusable(exception) is { } advice)
        {
            LogUnusable(_database.Url, exception.SqliteErrorCode, exception.Message, advice);
            return false;
        }
        catch (Exception exception) when (exception is Npgsql.NpgsqlException or TimeoutException)
        {
            var sqlState = (exception as Npgsql.PostgresException)?.SqlState ?? "no answer";
            var advice = PostgresAdvice(exception);
            LogPostgresUnusable(_database.Shown, sqlState, exception.Message, advice);
            return false;
        }
    }

    /// <summary>External mode: the tables and columns Gateway maps must be there; the refusal lists what is not.</summary>
    private async Task<bool> OrchestratorSchemaServesAsync(System.Data.Common.DbConnection connection, CancellationToken cancellationToken)
    {
        await connection.OpenAsync(cancellationToken);
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken);
        var problems = await OrchestratorSchema.FindProblemsAsync(connection, db.Model, cancellationToken);
        if (problems.Count > 0)
        {
            var listed = string.Join("; ", problems);
            LogExternalSchemaRefused(_database.Shown, problems.Count, listed);
            return false;
        }

        return true;
    }

    /// <summary>The value sets the database's CHECKs allow: every later write keeps to them.</summary>
    private async Task<bool> LearnValuesAsync(System.Data.Common.DbConnection connection, CancellationToken cancellationToken)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync(cancellationToken);
        }

        var sets = await OrchestratorSchema.LearnValuesAsync(connection, cancellationToken);
        if (sets.Missing() is { Count: > 0 } missing)
        {
            var listed = string.Join("; ", missing);
            LogValuesRefused(_database.Shown, listed);
            return false;
        }

        _schema.Learn(sets);
        var narrowed = string.Join("; ", sets.Narrowed());
        if (narrowed.Length > 0)
        {
            LogNarrowedValues(narrowed);
        }

        return true;
    }

    /// <summary>Takes the write lock and lets it go: a file the gateway could read but not write is refused at start, not at the first change.</summary>
    private static async Task ProbeWritableAsync(System.Data.Common.DbConnection connection, CancellationToken cancellationToken)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync(cancellationToken);
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // SQLite: BEGIN IMMEDIATE alone succeeds on a file the OS will not let SQLite write; a page write tells.
        // PostgreSQL: a standby, or a user without the right to write, refuses the table.
        command.CommandText = connection is SqliteConnection
            ? "CREATE TABLE gateway_start_probe (x); DROP TABLE gateway_start_probe;"
            : "CREATE TABLE gateway_start_probe (x INTEGER); DROP TABLE gateway_start_probe;";
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.RollbackAsync(cancellationToken);
    }

    /// <summary>What to do about a file the gateway cannot use, or null when the error is not about the file.</summary>
    private string? Unusable(SqliteException exception)
    {
        var path = _database.Builder.DataSource;
        return (exception.SqliteErrorCode & 0xff) switch
        {
            // SQLITE_CORRUPT, SQLITE_NOTADB
            11 or 26 => $"the file is damaged or not a SQLite database. Restore it from a backup, or move it aside (mv '{path}' '{path}.broken') to start on a new one; `sqlite3 '{path}' 'PRAGMA integrity_check'` shows the damage",
            // SQLITE_READONLY, SQLITE_CANTOPEN
            8 or 14 => $"the file cannot be opened for writing. Check that '{path}', its -wal and -shm files and its folder belong to the user running the gateway and are writable (ls -l '{Path.GetDirectoryName(Path.GetFullPath(path))}'), and that the file system is not mounted read-only",
            // SQLITE_FULL
            13 => $"the disk holding '{path}' is full. Free space on it and start again",
            // SQLITE_IOERR
            10 => $"the operating system refused to read or write '{path}' (I/O error). Check the disk and the file system (dmesg) before starting again",
            _ => null,
        };
    }

    /// <summary>What to do about a PostgreSQL database the gateway cannot use.</summary>
    private static string PostgresAdvice(Exception exception) => (exception as Npgsql.PostgresException)?.SqlState switch
    {
        Npgsql.PostgresErrorCodes.InvalidPassword or Npgsql.PostgresErrorCodes.InvalidAuthorizationSpecification =>
            "the server refused the user or password in DATABASE_URL; check them (the password is percent-encoded in the URL)",
        Npgsql.PostgresErrorCodes.InvalidCatalogName => "the database does not exist; create it first (createdb, or CREATE DATABASE) and start again",
        Npgsql.PostgresErrorCodes.InsufficientPrivilege => "the user may not create or change the tables; grant it rights on the database or run the migrations as its owner",
        Npgsql.PostgresErrorCodes.ReadOnlySqlTransaction => "the server takes no writes (a standby, or default_transaction_read_only); point DATABASE_URL at the primary",
        null => "no answer from the server; check that it runs and that host and port in DATABASE_URL are right (pg_isready -h HOST -p PORT)",
        _ => "see the server's message",
    };

    /// <summary>
    /// A data folder that exists is never changed (it may be a shared place); one that others may enter or list is
    /// worth a warning, since it holds the database and the signing key file (both 0600 themselves).
    /// </summary>
    private void WarnOfOpenDataFolder()
    {
        var folder = Path.GetFullPath(_databaseOptions.DataDirectory);
        if (PrivateFiles.ModeOf(folder) is { } mode && (mode & PrivateFiles.GroupOrOthers) != 0)
        {
            LogDataFolderOpen(folder, PrivateFiles.Octal(mode), $"chmod 700 {folder}");
        }
    }

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "The database file {Narrowed}: it holds the configuration's secrets in clear")]
    private partial void LogPermissionsNarrowed(string narrowed);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "The data folder {Folder} is mode {Mode}: others than its owner may list or enter it. "
        + "Run `{Command}` unless it is shared on purpose")]
    private partial void LogDataFolderOpen(string folder, string mode, string command);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Critical, Message = "Refusing to start: {Setting}")]
    private partial void LogSettingRefused(string setting);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Critical, Message = "Refusing to start: Migrations:Orchestrator is external, and the database {DatabaseUrl} lacks {Count} things Gateway needs: {Problems}. "
        + "Apply the orchestrator's migrations first (its own migrator owns them in this mode)")]
    private partial void LogExternalSchemaRefused(string databaseUrl, int count, string problems);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Critical, Message = "Refusing to start: the CHECK constraints of {DatabaseUrl} do not allow values Gateway must write: {Missing}")]
    private partial void LogValuesRefused(string databaseUrl, string missing);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "This database allows less than Gateway's own schema, and Gateway keeps to it: {Narrowed}")]
    private partial void LogNarrowedValues(string narrowed);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applied {Set} migration {Version} ({Description})")]
    private partial void LogApplied(string set, long version, string description);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Database {DatabaseUrl} is up to date ({AppliedCount} migrations applied at start)")]
    private partial void LogUpToDate(string databaseUrl, int appliedCount);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Critical, Message = "Refusing to start: {PendingCount} migrations are pending on {DatabaseUrl} and Migrations:ApplyAtStartup is false; run `Gateway.Server migrate run` or turn the setting on")]
    private partial void LogPendingRefused(int pendingCount, string databaseUrl);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Critical, Message = "Refusing to start ({Kind}): {Reason}")]
    private partial void LogRefused(MigrationErrorKind kind, string reason);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Critical, Message = "Refusing to start: the database {Database} cannot be used (PostgreSQL {SqlState}: {Error}); {Advice}")]
    private partial void LogPostgresUnusable(string database, string sqlState, string error, string advice);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Critical, Message = "Refusing to start: the database {DatabaseUrl} cannot be used (SQLite error {Code}: {Error}); {Advice}")]
    private partial void LogUnusable(string databaseUrl, int code, string error, string advice);
}
