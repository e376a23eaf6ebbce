using Gateway.Migrations;
using Gateway.Server.Database;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Health;

/// <summary>Ready when the database answers and every migration is applied with an unchanged file.</summary>
public sealed class MigrationsHealthCheck : IHealthCheck
{
    private readonly DatabaseLocation _database;
    private readonly MigrationOptions _options;

    public MigrationsHealthCheck(DatabaseLocation database, IOptions<MigrationOptions> options)
    {
        _database = database;
        _options = options.Value;
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = new SqliteConnection(_database.ConnectionString);
            var migrator = OrchestratorMigrations.CreateMigrator(connection, _options.ResolvedSource, _options.IgnoreMissing);
            var (migrations, applied) = await migrator.ValidateAsync(cancellationToken);
            var pending = migrations.Count(m => !applied.ContainsKey(m.Version));
            return pending == 0
                ? HealthCheckResult.Healthy($"{applied.Count} migrations applied")
                : HealthCheckResult.Unhealthy($"{pending} migrations pending");
        }
        catch (MigrationException exception)
        {
            return HealthCheckResult.Unhealthy(exception.Message);
        }
        catch (SqliteException exception)
        {
            return HealthCheckResult.Unhealthy("database unreachable: " + exception.Message);
        }
    }
}
