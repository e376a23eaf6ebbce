using Gateway.Server.RateLimiting;
using Gateway.Testing;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Tests.RateLimiting;

/// <summary>Rate limits that make no sense stop the gateway at start, naming the setting and an example.</summary>
public sealed class RateLimitOptionsTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(new RateLimitOptionsValidator().Validate(null, new RateLimitOptions()).Succeeded);
        Assert.True(new RateLimitOptionsValidator().Validate(null, new RateLimitOptions { WritesPerSecond = 0, WriteBurst = 0 }).Succeeded);
    }

    [Theory]
    [InlineData("Writes", -1, 10)]
    [InlineData("Writes", 5, 0)]
    [InlineData("Reads", -5, 10)]
    [InlineData("Reads", 5, 0)]
    [InlineData("Connects", -1, 10)]
    [InlineData("Connects", 1, 0)]
    public void A_negative_rate_or_a_bucket_without_room_is_refused(string kind, int perSecond, int burst)
    {
        var options = new RateLimitOptions();
        typeof(RateLimitOptions).GetProperty(kind + "PerSecond")!.SetValue(options, perSecond);
        typeof(RateLimitOptions).GetProperty(kind[..^1] + "Burst")!.SetValue(options, burst);

        var result = new RateLimitOptionsValidator().Validate(null, options);

        Assert.False(result.Succeeded);
        Assert.Contains($"RateLimits:{kind}PerSecond", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_server_refuses_to_start_on_a_bad_rate_limit()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?> { ["RateLimits:ConnectBurst"] = "0" });

        var refused = Assert.ThrowsAny<OptionsValidationException>(() => server.BaseAddress);

        Assert.Contains("RateLimits:ConnectsPerSecond", refused.Message, StringComparison.Ordinal);
    }
}
