using Gateway.Data.Entities;
using Gateway.Migrations;
using Gateway.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Gateway.Data.Tests;

/// <summary>
/// The one EF Core model on a real PostgreSQL migrated with migrations/postgres: every entity written and read back
/// as the tracked entity holds it (UTC at microseconds, booleans, JSON text byte for byte), the <c>updated_at</c>
/// concurrency token across updates, and event ids from the identity.
/// </summary>
public sealed class PostgresModelTests : IAsyncLifetime
{
    private const string Json = """{"zeta":1,"alpha":{"größe":"日本","list":[1,2.5,null,true]},"emoji":"🚀"}""";
    private static readonly DateTime SubMicrosecond = new DateTime(2025, 1, 15, 10, 0, 0, DateTimeKind.Utc).AddTicks(1_234_567);

    private TemporaryPostgresDatabase _database = null!;
    private ServiceProvider _services = null!;
    private FakeTimeProvider _clock = null!;

    private IDbContextFactory<GatewayDbContext> Factory => _services.GetRequiredService<IDbContextFactory<GatewayDbContext>>();

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("model");
        await using (var connection = _database.Open())
        {
            foreach (var set in new[] { MigrationSet.Orchestrator(RepositoryPaths.PostgresMigrations), new MigrationSet("gateway", RepositoryPaths.GatewayPostgresMigrations, MigrationSet.GatewayBookkeepingTable) })
            {
                await new Migrator(set, new PostgresMigrationStore(connection, set.BookkeepingTable)).RunAsync(null, CancellationToken.None);
            }
        }

        _clock = new FakeTimeProvider(new DateTimeOffset(SubMicrosecond));
        _services = new ServiceCollection().AddSingleton<TimeProvider>(_clock).AddGatewayPostgresDbContext(_database.ConnectionString).BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Every_entity_reads_back_as_the_tracked_entity_holds_it()
    {
        var task = new AgentTask { Id = "t-1", Title = "Grüße 🚀", TaskType = "code", Status = AgentTaskStatus.Running, Config = Json, StartedAt = SubMicrosecond.AddTicks(9) };
        var workflow = new Workflow { Id = "w-1", Name = "flow", Definition = Json, Status = WorkflowStatus.Active };
        var session = new GatewaySession { Id = "s-1", ClientId = "c-1", ConnectionType = SessionConnectionType.ServerSentEvents, IsActive = false, Metadata = Json };
        var secret = new ConfigurationEntry { Key = "api.key", Value = "hunter2", ValueType = ConfigurationValueType.String, IsSecret = true };
        var execution = new ToolExecution { Id = "e-1", TaskId = "t-1", ToolName = "shell", Arguments = Json, DurationMs = 12_345_678_901 };
        await using (var db = await Factory.CreateDbContextAsync())
        {
            db.AddRange(task, workflow, session, secret, execution);
            db.Add(new WorkflowTask { WorkflowId = "w-1", TaskId = "t-1", Sequence = 3 });
            await db.SaveChangesAsync();
        }

        await using var read = await Factory.CreateDbContextAsync();
        var readTask = await read.Tasks.AsNoTracking().SingleAsync();
        Assert.Equal((task.CreatedAt, task.UpdatedAt, task.StartedAt), (readTask.CreatedAt, readTask.UpdatedAt, readTask.StartedAt));
        Assert.Equal(DateTimeKind.Utc, readTask.CreatedAt.Kind);
        // The clock's 100 ns digits are cut to PostgreSQL's microseconds before the row is written.
        Assert.Equal(SubMicrosecond.AddTicks(-7), readTask.CreatedAt);
        Assert.Equal(Json, readTask.Config);
        Assert.Equal(AgentTaskStatus.Running, readTask.Status);
        Assert.Equal(Json, (await read.Workflows.AsNoTracking().SingleAsync()).Definition);
        var readSession = await read.Sessions.AsNoTracking().SingleAsync();
        Assert.Equal((false, SessionConnectionType.ServerSentEvents, Json), (readSession.IsActive, readSession.ConnectionType, readSession.Metadata));
        Assert.True((await read.Configurations.AsNoTracking().SingleAsync()).IsSecret);
        Assert.Equal(12_345_678_901, (await read.ToolExecutions.AsNoTracking().SingleAsync()).DurationMs);
        Assert.Equal(3, (await read.WorkflowTasks.AsNoTracking().SingleAsync()).Sequence);
    }

    [Fact]
    public async Task The_updated_at_token_round_trips_so_updates_succeed_and_a_stale_one_is_refused()
    {
        await using (var db = await Factory.CreateDbContextAsync())
        {
            db.Add(new AgentTask { Id = "t-1", Title = "a", TaskType = "code" });
            await db.SaveChangesAsync();
        }

        await using var stale = await Factory.CreateDbContextAsync();
        var staleTask = await stale.Tasks.SingleAsync();
        await using var db2 = await Factory.CreateDbContextAsync();
        var tracked = await db2.Tasks.SingleAsync();
        // The clock stands still: each update still moves updated_at one microsecond past the value read.
        tracked.Title = "b";
        await db2.SaveChangesAsync();
        tracked.Title = "c";
        await db2.SaveChangesAsync();

        Assert.Equal(staleTask.UpdatedAt.AddTicks(20), tracked.UpdatedAt);
        await using (var check = await Factory.CreateDbContextAsync())
        {
            Assert.Equal(tracked.UpdatedAt, (await check.Tasks.AsNoTracking().SingleAsync()).UpdatedAt);
        }

        staleTask.Title = "lost";
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => stale.SaveChangesAsync());
    }

    [Fact]
    public async Task Events_get_increasing_ids_from_the_identity_and_keep_their_payload()
    {
        var events = Enumerable.Range(0, 3).Select(i => new EventLogEntry { EventType = "task.status", Priority = 1, TaskId = "t-1", Payload = Json }).ToList();
        await using (var db = await Factory.CreateDbContextAsync())
        {
            db.Events.AddRange(events);
            await db.SaveChangesAsync();
        }

        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
        Assert.True(events[0].Id > 0);
        await using var connection = _database.Open();
        await using var payload = new NpgsqlCommand("SELECT payload FROM gateway_events ORDER BY id LIMIT 1", connection);
        Assert.Equal(Json, await payload.ExecuteScalarAsync());
    }
}
