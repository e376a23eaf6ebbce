using System.Security.Claims;
using Gateway.Contracts;
using Gateway.Data;
using Gateway.Server.Events;
using Gateway.Server.Hubs;
using Gateway.Server.Metrics;
using Gateway.Server.Sessions;
using Gateway.Testing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;

namespace Gateway.Server.Tests.Events;

/// <summary>
/// A Subscribe whose replay fails (the database fails the read) must leave nothing registered: a leftover subscription
/// holds back every live event for the life of the connection and refuses the client's retry under the same id. The
/// database failure cannot be provoked on a healthy file, so the context factory is the seam that fails.
/// </summary>
public sealed class FailedSubscribeTests : IDisposable
{
    private readonly GatewayTestServer _server = new();

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task A_subscribe_whose_replay_fails_leaves_no_subscription_behind_and_the_retry_is_accepted()
    {
        var failing = new Mock<IDbContextFactory<GatewayDbContext>>();
        failing.Setup(f => f.CreateDbContextAsync(It.IsAny<CancellationToken>())).ThrowsAsync(new SqliteException("disk I/O error", 10));
        var broadcaster = new EventBroadcaster();
        broadcaster.Initialize(10);
        var subscriptions = new EventSubscriptions(
            broadcaster,
            _server.Services.GetRequiredService<EventLogFollower>(),
            new SqliteEventLog(failing.Object),
            _server.Services.GetRequiredService<IHubContext<GatewayHub, IGatewayClient>>(),
            _server.Services.GetRequiredService<RealtimeStats>(),
            _server.Services.GetRequiredService<GatewayMetrics>(),
            TimeProvider.System,
            Options.Create(new EventOptions()),
            NullLogger<EventSubscriptions>.Instance);
        var context = Dashboard("connection-1");
        var resume = new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: 5, SubscriptionId: "s-1");

        await Assert.ThrowsAsync<SqliteException>(() => subscriptions.SubscribeAsync(context, resume, CancellationToken.None));

        Assert.Equal(0, broadcaster.SubscriptionCount);
        var retry = await subscriptions.SubscribeAsync(context, resume with { AfterEventId = null }, CancellationToken.None);
        Assert.Equal("s-1", retry.SubscriptionId);
        Assert.Equal(1, broadcaster.SubscriptionCount);
    }

    private static HubCallerContext Dashboard(string connectionId)
    {
        var context = new Mock<HubCallerContext>();
        context.SetupGet(c => c.ConnectionId).Returns(connectionId);
        context.SetupGet(c => c.User).Returns(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Role, GatewayRoles.Dashboard)], "test")));
        context.SetupGet(c => c.Features).Returns(new FeatureCollection());
        return context.Object;
    }
}
