using Gateway.Migrations;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Database;

/// <summary>
/// Brings the database up to date before the server accepts clients, or refuses to start and says why:
/// a dirty or changed database, an unknown version, or pending migrations with ApplyAtStartup off.
/// </summary>
public sealed partial class StartupMigration
{
    private readonly DatabaseLocation _database;
    private readonly MigrationOptions _options;
    private readonly DatabaseOptions _databaseOptions;
    private readonly ILogger<StartupMigration> _logger;

    public StartupMigration(
        DatabaseLocation database, IOptions<MigrationOptions> options, IOptions<DatabaseOptions> databaseOptions, ILogger<StartupMigration> logger)
    {
        _database = database;
        _options = options.Value;
        _databaseOptions = databaseOptions.Value;
        _logger = logger;
    }

    /// <returns>False when the server must not start; the reason is logged.</returns>
    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var narrowed in await SqliteDatabasePreparation.PrepareAsync(_database.Builder, cancellationToken))
            {
                LogPermissionsNarrowed(narrowed.ToString());
            }

            WarnOfOpenDataFolder();
            await using var connection = new SqliteConnection(_database.ConnectionString);
            var migrators = GatewayMigrationSets.CreateAll(connection, _options);
            if (_options.ApplyAtStartup)
            {
                // Validate every set before applying any, so a refusal changes nothing.
                foreach (var migrator in migrators)
                {
                    await migrator.ValidateAsync(cancellationToken);
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

                LogUpToDate(_database.Url, total);
                return true;
            }

            var pending = 0;
            foreach (var migrator in migrators)
            {
                var status = await migrator.ValidateAsync(cancellationToken);
                pending += status.Migrations.Count(m => !status.Applied.ContainsKey(m.Version));
            }

            if (pending > 0)
            {
                LogPendingRefused(pending, _database.Url);
                return false;
            }

            LogUpToDate(_database.Url, 0);
            return true;
        }
        catch (MigrationException exception)
        {
            LogRefused(exception.Kind, exception.Message);
            return false;
        }
    }

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

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Applied {Set} migration {Version} ({Description})")]
    private partial void LogApplied(string set, long version, string description);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Database {DatabaseUrl} is up to date ({AppliedCount} migrations applied at start)")]
    private partial void LogUpToDate(string databaseUrl, int appliedCount);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Critical, Message = "Refusing to start: {PendingCount} migrations are pending on {DatabaseUrl} and Migrations:ApplyAtStartup is false; run `Gateway.Server migrate run` or turn the setting on")]
    private partial void LogPendingRefused(int pendingCount, string databaseUrl);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Critical, Message = "Refusing to start ({Kind}): {Reason}")]
    private partial void LogRefused(MigrationErrorKind kind, string reason);
}
