using System.Data;
using Gateway.Data;
using Gateway.Server.Orchestration;
using Gateway.Server.Orchestration.Tasks;
using Gateway.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Server.Tests.Events;

/// <summary>
/// The change writer runs its groups on a connection of its own (prepared statements, its transaction). The contexts
/// the rest of the gateway reads with come from the same pool of contexts, and must never carry that connection: a
/// read on it runs inside the writer's open transaction (seeing what may still roll back), on a connection another
/// thread is using. Seen as "Execute requires the command to have a transaction object" in a subscription's replay.
/// </summary>
public sealed class WriterConnectionIsolationTests : IDisposable
{
    private static readonly Caller Admin = new("admin-1", IsAdmin: true, IsAgent: false, IsDashboard: false);

    private readonly GatewayTestServer _server = new();

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task Contexts_handed_out_after_changes_have_their_own_closed_connection()
    {
        var tasks = _server.Services.GetRequiredService<TaskService>();
        for (var i = 0; i < 20; i++)
        {
            var id = (await tasks.CreateAsync(Admin, new CreateTaskRequest($"t{i}", null, "test", null, null, null), default)).Id;
            await tasks.ChangeStatusAsync(Admin, id, new ChangeTaskStatusRequest("running"), default);
        }

        // Take many at once: the pool hands out every context it kept, the writer's former ones included.
        var factory = _server.Services.GetRequiredService<IDbContextFactory<GatewayDbContext>>();
        var contexts = new List<GatewayDbContext>();
        try
        {
            for (var i = 0; i < 64; i++)
            {
                contexts.Add(await factory.CreateDbContextAsync());
            }

            Assert.All(contexts, db => Assert.Equal(ConnectionState.Closed, db.Database.GetDbConnection().State));
        }
        finally
        {
            foreach (var db in contexts)
            {
                await db.DisposeAsync();
            }
        }
    }
    [Fact]
    public async Task The_writers_own_contexts_still_log_to_the_applications_loggers()
    {
        var logs = new CapturingLoggerProvider();
        using var server = logs.StartServerLoggingEverything();
        var tasks = server.Services.GetRequiredService<TaskService>();
        var id = (await tasks.CreateAsync(Admin, new CreateTaskRequest("logged", null, "test", null, null, null), default)).Id;
        await tasks.ChangeStatusAsync(Admin, id, new ChangeTaskStatusRequest("running"), default);

        Assert.Contains(
            logs.Lines,
            line => line.StartsWith("Microsoft.EntityFrameworkCore.Database.Command[", StringComparison.Ordinal)
                && line.Contains("UPDATE \"tasks\"", StringComparison.Ordinal));
    }
}
