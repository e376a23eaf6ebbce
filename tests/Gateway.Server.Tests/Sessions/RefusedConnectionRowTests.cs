using Gateway.Contracts;
using Gateway.Server.Sessions;
using Gateway.Testing;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Tests.Sessions;

/// <summary>A client refused for the connection limits, retrying in a loop, cannot grow the sessions table without bound.</summary>
public sealed class RefusedConnectionRowTests
{
    [Fact]
    public async Task A_loop_of_refused_connects_writes_one_row_per_user_and_interval()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?> { ["Limits:MaxConnectionsPerUser"] = "1" });
        var token = GatewayTestServer.Token("looper", GatewayRoles.Agent);
        await using var holder = server.CreateClient(token);
        await holder.StartAsync();

        for (var i = 0; i < 30; i++)
        {
            await using var refused = server.CreateClient(token, clientId: "retry-" + i);
            await refused.Connection.StartAsync().WaitAsync(TestHubConnections.Timeout);
            Assert.Equal(HubErrorCodes.TooManyConnections, HubErrorCodes.CodeOf((await refused.Closed)?.Message));
        }

        Assert.Equal(1, server.Database.QueryLong(
            "SELECT COUNT(*) FROM sessions WHERE user_id = 'looper' AND is_active = 0 AND json_extract(metadata, '$.closeReason') = 'too_many_connections'"));
        Assert.Equal("retry-0", server.Database.QueryString("SELECT client_id FROM sessions WHERE is_active = 0"));
        Assert.Equal(2, server.Database.QueryLong("SELECT COUNT(*) FROM sessions"));
    }

    [Fact]
    public void After_the_interval_the_next_refusal_is_recorded_with_the_count_of_those_that_were_not()
    {
        var time = new ManualTime();
        var refusals = new RefusedConnections(new FixedOptions(new LimitOptions { RefusalRecordIntervalSeconds = 60 }), time);

        Assert.True(refusals.TryRecord("ann", out var first));
        var within = Enumerable.Range(0, 5).Select(_ => { time.Advance(TimeSpan.FromSeconds(10)); return refusals.TryRecord("ann", out _); }).ToList();
        Assert.True(refusals.TryRecord("ben", out _));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(refusals.TryRecord("ann", out var unrecorded));

        Assert.Equal(0, first);
        Assert.All(within, Assert.False);
        Assert.Equal(5, unrecorded);
    }

    [Fact]
    public void At_most_the_tracked_users_are_recorded_per_interval_and_room_comes_back_when_it_passes()
    {
        var time = new ManualTime();
        var refusals = new RefusedConnections(new FixedOptions(new LimitOptions { RefusalRecordIntervalSeconds = 60 }), time);

        var recorded = Enumerable.Range(0, RefusedConnections.MaxTrackedUsers + 50).Count(i => refusals.TryRecord("user-" + i, out _));
        time.Advance(TimeSpan.FromSeconds(61));

        Assert.Equal(RefusedConnections.MaxTrackedUsers, recorded);
        Assert.True(refusals.TryRecord("late", out _));
    }

    [Fact]
    public void With_interval_0_every_refusal_is_recorded()
    {
        var refusals = new RefusedConnections(new FixedOptions(new LimitOptions { RefusalRecordIntervalSeconds = 0 }), new ManualTime());

        Assert.All(Enumerable.Range(0, 5), _ => Assert.True(refusals.TryRecord("ann", out _)));
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(60, true)]
    [InlineData(3600, true)]
    [InlineData(-1, false)]
    [InlineData(3601, false)]
    public void The_interval_must_be_0_to_3600_seconds(double seconds, bool valid)
    {
        var result = new LimitOptionsValidator().Validate(null, new LimitOptions { RefusalRecordIntervalSeconds = seconds });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Limits:RefusalRecordIntervalSeconds", result.FailureMessage, StringComparison.Ordinal);
        }
    }

    private sealed class FixedOptions(LimitOptions options) : IOptionsMonitor<LimitOptions>
    {
        public LimitOptions CurrentValue => options;

        public LimitOptions Get(string? name) => options;

        public IDisposable? OnChange(Action<LimitOptions, string?> listener) => null;
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
