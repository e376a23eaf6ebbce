using Gateway.Data;
using Gateway.Data.Entities;
using Gateway.Server.Database;
using Gateway.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Server.Tests.Startup;

/// <summary>What Gateway reads of the orchestrator's schema on PostgreSQL: the columns it maps and the values the CHECKs allow.</summary>
public sealed class PostgresOrchestratorSchemaTests
{
    private static async Task<(TemporaryPostgresDatabase Database, ServiceProvider Services)> MigratedAsync()
    {
        var database = await TestPostgres.CreateMigratedDatabaseAsync("schema");
        return (database, new ServiceCollection().AddGatewayPostgresDbContext(database.ConnectionString).BuildServiceProvider());
    }

    [Fact]
    public async Task Gateways_own_schema_serves_and_allows_every_value()
    {
        var (database, services) = await MigratedAsync();
        await using var _database = database;
        await using var _services = services;
        await using var db = await services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync();
        await using var connection = database.Open();

        Assert.Empty(await OrchestratorSchema.FindProblemsAsync(connection, db.Model, CancellationToken.None));
        Assert.Equal(SchemaValueSets.All.TaskStatuses, (await OrchestratorSchema.LearnValuesAsync(connection, CancellationToken.None)).TaskStatuses);
    }

    [Fact]
    public async Task A_narrower_check_and_a_missing_column_are_found_as_postgres_renders_them()
    {
        var (database, services) = await MigratedAsync();
        await using var _database = database;
        await using var _services = services;
        database.DoNotReuse();
        database.Execute(
            """
            ALTER TABLE tasks ADD CONSTRAINT tasks_status_narrow CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled'));
            ALTER TABLE tool_executions DROP COLUMN duration_ms;
            """);
        await using var db = await services.GetRequiredService<IDbContextFactory<GatewayDbContext>>().CreateDbContextAsync();
        await using var connection = database.Open();

        var values = await OrchestratorSchema.LearnValuesAsync(connection, CancellationToken.None);
        Assert.DoesNotContain(AgentTaskStatus.Paused, values.TaskStatuses);
        Assert.DoesNotContain(AgentTaskStatus.Queued, values.TaskStatuses);
        Assert.Contains(AgentTaskStatus.Running, values.TaskStatuses);
        Assert.Equal(SchemaValueSets.All.WorkflowStatuses, values.WorkflowStatuses);
        Assert.Contains("column tool_executions.duration_ms", await OrchestratorSchema.FindProblemsAsync(connection, db.Model, CancellationToken.None));
    }
}
