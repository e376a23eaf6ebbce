using Gateway.Migrations;
using Gateway.Server.Database;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Health;

/// <summary>Ready when the database answers and every migration is applied with an unchanged file.</summary>
internal sealed class MigrationsHealthCheck : IHealthCheck
{
    private readonly DatabaseConnections _database;
    private readonly MigrationOptions _options;

    public MigrationsHealthCheck(DatabaseConnections database, IOptions<MigrationOptions> options)
    {
        _database = database;
        _options = options.Value;
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = _database.Create();
            int pending = 0, applied = 0;
            foreach (var migrator in GatewayMigrationSets.CreateAll(connection, _options))
            {
                var status = await migrator.ValidateAsync(cancellationToken);
                pending += status.Migrations.Count(m => !status.Applied.ContainsKey(m.Version));
                applied += status.Applied.Count;
            }

            return pending == 0
                ? HealthCheckResult.Healthy($"{applied} migrations applied")
                : HealthCheckResult.Unhealthy($"{pending} migrations pending");
        }
        catch (MigrationException exception)
        {
            return HealthCheckResult.Unhealthy(exception.Message);
        }
        catch (Exception exception) when (exception is System.Data.Common.DbException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("database unreachable: " + exception.Message);
        }
    }
}
