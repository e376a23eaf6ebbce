using System.Data.Common;
using System.Text.Json.Nodes;
using Gateway.Contracts;
using Gateway.Data;
using Gateway.Data.Entities;
using Gateway.Server.Sessions;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Server.Tests.Specifications;

/// <summary>
/// The contract of <see cref="ISessionStore"/>, written once: an implementation runs it by deriving a class that says
/// how to make a fresh store, read its rows back through the EF Core model, and seed the node registry.
/// </summary>
public abstract class SessionStoreSpecification : IAsyncLifetime
{
    private static readonly DateTime T0 = new(2026, 12, 2, 10, 0, 0, DateTimeKind.Utc);

    internal ISessionStore Store { get; private set; } = null!;

    /// <summary>A store on a fresh, migrated database of its own.</summary>
    internal abstract Task<ISessionStore> CreateStoreAsync();

    /// <summary>A unit of work on <see cref="Store"/>'s database, to read rows back as the API does.</summary>
    internal abstract GatewayDbContext NewContext();

    /// <summary>A row of the node registry (<c>gateway_nodes</c>) beaten at <paramref name="lastSeen"/>.</summary>
    internal abstract Task SeedNodeAsync(string nodeId, DateTime lastSeen);

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    internal static SessionRow Row(string id, string node = "node-a", string? user = "alice", DateTime? at = null, int? max = null) => new(
        id, ClientId: "client-" + id, user, "websocket", IsActive: true, $$"""{"nodeId":"{{node}}","transport":"WebSockets"}""", at ?? T0, max);

    internal async Task<T> InBatchAsync<T>(Func<ISessionTransaction, Task<T>> work)
    {
        await using var connection = await Store.ConnectAsync(CancellationToken.None);
        await using var transaction = await connection.BeginAsync(CancellationToken.None);
        var result = await work(transaction);
        await transaction.CommitAsync(CancellationToken.None);
        return result;
    }

    internal Task OpenAsync(params SessionRow[] rows) => InBatchAsync(async batch =>
    {
        foreach (var row in rows)
        {
            Assert.True(await batch.OpenAsync(row, T0.AddHours(-1), CancellationToken.None));
        }

        return true;
    });

    internal async Task<GatewaySession?> ReadAsync(string id)
    {
        await using var db = NewContext();
        return await db.Sessions.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id);
    }

    private static JsonObject MetadataOf(GatewaySession session) => JsonNode.Parse(session.Metadata!)!.AsObject();

    [Fact]
    public async Task An_open_session_reads_back_as_written_and_closes_once_keeping_its_metadata()
    {
        await OpenAsync(Row("s-1"));

        var open = await ReadAsync("s-1");
        Assert.NotNull(open);
        Assert.True(open.IsActive);
        Assert.Equal(("client-s-1", "alice", SessionConnectionType.Websocket), (open.ClientId, open.UserId, open.ConnectionType));
        Assert.Equal((T0, T0, T0), (open.CreatedAt, open.UpdatedAt, open.LastHeartbeat));

        var closedAt = T0.AddMinutes(5);
        Assert.True(await InBatchAsync(batch => batch.CloseAsync("s-1", CloseReasons.DisconnectedByAdmin, "maintenance \"window\" ✓", closedAt, CancellationToken.None)));
        Assert.False(await InBatchAsync(batch => batch.CloseAsync("s-1", CloseReasons.ClientClosed, null, closedAt.AddMinutes(1), CancellationToken.None)));
        Assert.False(await InBatchAsync(batch => batch.CloseAsync("unknown", CloseReasons.ClientClosed, null, closedAt, CancellationToken.None)));

        var closed = (await ReadAsync("s-1"))!;
        var metadata = MetadataOf(closed);
        Assert.False(closed.IsActive);
        Assert.Equal(closedAt, closed.UpdatedAt);
        Assert.Equal(CloseReasons.DisconnectedByAdmin, (string?)metadata["closeReason"]);
        Assert.Equal("maintenance \"window\" ✓", (string?)metadata["closeMessage"]);
        Assert.Equal("node-a", (string?)metadata["nodeId"]);
        Assert.Equal(closedAt, DateTime.Parse((string)metadata["closedAt"]!, null, System.Globalization.DateTimeStyles.AdjustToUniversal));
    }

    [Fact]
    public async Task A_heartbeat_only_moves_forward_and_only_on_an_active_session()
    {
        await OpenAsync(Row("s-1"), Row("s-2"));
        await InBatchAsync(batch => batch.CloseAsync("s-2", CloseReasons.ClientClosed, null, T0.AddSeconds(1), CancellationToken.None));

        var moved = await InBatchAsync(async batch =>
            await batch.HeartbeatAsync("s-1", T0.AddSeconds(30), CancellationToken.None)
            + await batch.HeartbeatAsync("s-1", T0.AddSeconds(10), CancellationToken.None)
            + await batch.HeartbeatAsync("s-2", T0.AddSeconds(30), CancellationToken.None)
            + await batch.HeartbeatAsync("unknown", T0.AddSeconds(30), CancellationToken.None));

        Assert.Equal(1, moved);
        Assert.Equal(T0.AddSeconds(30), (await ReadAsync("s-1"))!.LastHeartbeat);
        Assert.Equal(T0, (await ReadAsync("s-2"))!.LastHeartbeat);
    }

    [Fact]
    public async Task Closing_a_node_closes_its_active_sessions_only_and_returns_them()
    {
        await OpenAsync(Row("a-1"), Row("a-2", user: null), Row("a-3"), Row("b-1", node: "node-b"));
        await InBatchAsync(batch => batch.CloseAsync("a-3", CloseReasons.ClientClosed, null, T0.AddSeconds(1), CancellationToken.None));

        var at = T0.AddMinutes(1);
        var closed = await InBatchAsync(batch => batch.CloseNodeAsync("node-a", CloseReasons.NodeLost, at, CancellationToken.None));

        Assert.Equal(["a-1", "a-2"], closed.Select(s => s.Id).Order());
        Assert.All(closed, session => Assert.False(session.IsActive));
        Assert.All(closed, session => Assert.Equal(at, session.UpdatedAt));
        Assert.Equal(CloseReasons.NodeLost, (string?)MetadataOf((await ReadAsync("a-2"))!)["closeReason"]);
        Assert.Equal(CloseReasons.ClientClosed, (string?)MetadataOf((await ReadAsync("a-3"))!)["closeReason"]);
        Assert.True((await ReadAsync("b-1"))!.IsActive);
        Assert.Empty(await InBatchAsync(batch => batch.CloseNodeAsync("node-a", CloseReasons.NodeLost, at, CancellationToken.None)));
    }

    [Fact]
    public async Task The_reaper_closes_silent_sessions_as_stale_except_those_it_is_told_to_keep()
    {
        await OpenAsync(Row("old"), Row("kept"), Row("fresh", at: T0.AddMinutes(10)));
        var at = T0.AddMinutes(11);

        var reaped = await InBatchAsync(batch => batch.ReapAsync(T0.AddMinutes(5), id => id == "kept", at, CancellationToken.None));

        Assert.Equal("old", Assert.Single(reaped).Id);
        Assert.Equal(T0, reaped[0].LastHeartbeat);
        Assert.Equal(CloseReasons.Stale, (string?)MetadataOf((await ReadAsync("old"))!)["closeReason"]);
        Assert.True((await ReadAsync("kept"))!.IsActive);
        Assert.True((await ReadAsync("fresh"))!.IsActive);
    }

    [Fact]
    public async Task Pruning_deletes_inactive_rows_past_the_cutoff_a_chunk_at_a_time_and_never_an_active_one()
    {
        await OpenAsync(Row("gone-1"), Row("gone-2"), Row("gone-3"), Row("recent"), Row("active"));
        await InBatchAsync(async batch =>
        {
            foreach (var id in Enumerable.Range(1, 3).Select(n => $"gone-{n}"))
            {
                await batch.CloseAsync(id, CloseReasons.ClientClosed, null, T0.AddDays(1), CancellationToken.None);
            }

            return await batch.CloseAsync("recent", CloseReasons.ClientClosed, null, T0.AddDays(3), CancellationToken.None);
        });

        var cutoff = T0.AddDays(2);
        var first = await InBatchAsync(batch => batch.PruneAsync(cutoff, chunk: 2, CancellationToken.None));
        var second = await InBatchAsync(batch => batch.PruneAsync(cutoff, chunk: 2, CancellationToken.None));

        Assert.Equal((2, 1), (first, second));
        Assert.Null(await ReadAsync("gone-3"));
        Assert.NotNull(await ReadAsync("recent"));
        Assert.NotNull(await ReadAsync("active"));
    }

    [Fact]
    public async Task Nothing_of_a_batch_disposed_without_a_commit_is_visible()
    {
        await OpenAsync(Row("s-1"));
        await using (var connection = await Store.ConnectAsync(CancellationToken.None))
        await using (var batch = await connection.BeginAsync(CancellationToken.None))
        {
            await batch.OpenAsync(Row("s-2"), T0, CancellationToken.None);
            await batch.CloseAsync("s-1", CloseReasons.ClientClosed, null, T0.AddSeconds(1), CancellationToken.None);
            await batch.HeartbeatAsync("s-1", T0.AddSeconds(1), CancellationToken.None);
        }

        Assert.Null(await ReadAsync("s-2"));
        var s1 = (await ReadAsync("s-1"))!;
        Assert.True(s1.IsActive);
        Assert.Equal(T0, s1.LastHeartbeat);
    }

    [Fact]
    public async Task The_per_user_limit_counts_active_sessions_on_live_nodes_only()
    {
        var liveSince = T0.AddMinutes(-1);
        await SeedNodeAsync("node-a", T0);
        await SeedNodeAsync("node-b", T0);
        await SeedNodeAsync("node-lost", T0.AddMinutes(-5));
        await OpenAsync(Row("a-1"), Row("lost-1", node: "node-lost"), Row("lost-2", node: "node-lost"), Row("bob-1", user: "bob"), Row("closed", node: "node-b"));
        await InBatchAsync(batch => batch.CloseAsync("closed", CloseReasons.ClientClosed, null, T0, CancellationToken.None));

        var second = await InBatchAsync(batch => batch.OpenAsync(Row("b-1", node: "node-b", max: 2), liveSince, CancellationToken.None));
        var third = await InBatchAsync(batch => batch.OpenAsync(Row("b-2", node: "node-b", max: 2), liveSince, CancellationToken.None));
        var unlimited = await InBatchAsync(batch => batch.OpenAsync(Row("b-3", node: "node-b"), liveSince, CancellationToken.None));

        Assert.True(second);
        Assert.False(third);
        Assert.Null(await ReadAsync("b-2"));
        Assert.True(unlimited);
    }

    [Fact]
    public async Task Writers_on_several_nodes_opening_a_users_last_allowed_session_at_once_insert_exactly_one()
    {
        const int Writers = 6;
        await SeedNodeAsync("node-a", T0);
        await SeedNodeAsync("node-b", T0);
        await OpenAsync(Row("existing"));
        using var start = new SemaphoreSlim(0, Writers);

        var attempts = Enumerable.Range(0, Writers).Select(i => Task.Run(async () =>
        {
            await start.WaitAsync();
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    // Each writer is a node's session writer: a connection and a transaction of its own.
                    return await InBatchAsync(batch => batch.OpenAsync(Row($"race-{i}", node: i % 2 == 0 ? "node-a" : "node-b", max: 2), T0.AddMinutes(-1), CancellationToken.None));
                }
                catch (DbException) when (attempt < 50)
                {
                    // A writer the database turned away (busy, serialisation) retries, as the session writer's callers do.
                    await Task.Delay(10);
                }
            }
        })).ToList();
        start.Release(Writers);
        var opened = await Task.WhenAll(attempts);

        Assert.Equal(1, opened.Count(o => o));
        await using var db = NewContext();
        Assert.Equal(2, await db.Sessions.CountAsync(s => s.UserId == "alice" && s.IsActive));
    }
}
