using Gateway.Testing;

namespace Gateway.Server.Tests.Sessions;

/// <summary>Inactive rows stay for audit until the retention has passed, then the background job deletes them.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task Inactive_sessions_past_retention_are_pruned_and_nothing_else()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?>
        {
            ["Sessions:RetentionHours"] = "24",
            ["Sessions:PruneIntervalMinutes"] = "0.01",
            ["Sessions:ReaperIntervalSeconds"] = "0.2",
            ["Sessions:StaleTimeoutSeconds"] = "100000",
        });
        using (await server.Database.OpenMigratedAsync())
        {
        }

        using (var connection = server.Database.Open())
        using (var command = connection.CreateCommand())
        {
            command.CommandText =
                """
                INSERT INTO sessions (id, client_id, connection_type, is_active, metadata, created_at, updated_at, last_heartbeat) VALUES
                  ('old-closed',    'c1', 'websocket', 0, '{}', datetime('now', '-3 days'), datetime('now', '-2 days'), datetime('now', '-2 days')),
                  ('recent-closed', 'c2', 'websocket', 0, '{}', datetime('now', '-3 days'), datetime('now', '-1 hours'), datetime('now', '-2 days')),
                  ('old-active',    'c3', 'websocket', 1, '{}', datetime('now', '-3 days'), datetime('now', '-2 days'), datetime('now', '-1 minutes'));
                """;
            command.ExecuteNonQuery();
        }

        _ = server.BaseAddress;

        await SessionRowTests.Eventually(() => server.Database.QueryLong("SELECT COUNT(*) FROM sessions WHERE id = 'old-closed'") == 0);
        Assert.Equal(1, server.Database.QueryLong("SELECT COUNT(*) FROM sessions WHERE id = 'recent-closed'"));
        Assert.Equal(1, server.Database.QueryLong("SELECT COUNT(*) FROM sessions WHERE id = 'old-active'"));
    }
}
