using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Client.Tests;

/// <summary>The default backoff: 0.5 s doubling, with jitter, capped at 30 s, forever unless limited.</summary>
public sealed class ReconnectPolicyTests
{
    [Theory]
    [InlineData(0, 0.5)]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(5, 16)]
    public void Delays_double_from_half_a_second_within_the_jitter(long previousAttempts, double nominalSeconds)
    {
        var policy = new GatewayReconnectPolicy();

        Assert.Equal(nominalSeconds * 0.8, policy.DelayFor(previousAttempts, 0)!.Value.TotalSeconds, 6);
        Assert.Equal(nominalSeconds, policy.DelayFor(previousAttempts, 0.5)!.Value.TotalSeconds, 6);
        Assert.Equal(nominalSeconds * 1.2, policy.DelayFor(previousAttempts, 1)!.Value.TotalSeconds, 6);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(60)]
    [InlineData(100_000)]
    public void Delays_never_pass_thirty_seconds_and_retry_forever(long previousAttempts)
    {
        var policy = new GatewayReconnectPolicy();

        for (var random = 0.0; random < 1; random += 0.1)
        {
            Assert.InRange(policy.DelayFor(previousAttempts, random)!.Value, TimeSpan.FromSeconds(24), TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void Max_attempts_ends_the_retries()
    {
        var policy = new GatewayReconnectPolicy { MaxAttempts = 3, Jitter = 0 };

        Assert.Equal(TimeSpan.FromSeconds(2), policy.NextRetryDelay(new RetryContext { PreviousRetryCount = 2 }));
        Assert.Null(policy.NextRetryDelay(new RetryContext { PreviousRetryCount = 3 }));
    }

    [Fact]
    public void Bad_settings_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GatewayReconnectPolicy { MaxAttempts = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new GatewayReconnectPolicy { Jitter = 1.5 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new GatewayReconnectPolicy { InitialDelay = TimeSpan.FromSeconds(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => new GatewayReconnectPolicy { MaxDelay = TimeSpan.Zero });
    }
}
