using Gateway.Server.Cli;

namespace Gateway.Server.Tests.Auth;

/// <summary>The forms <c>--ttl</c> reads, in-process (the CLI tests run a few of them end to end).</summary>
public sealed class TokenLifetimeTests
{
    [Theory]
    [InlineData("1s", 1)]
    [InlineData("90m", 5400)]
    [InlineData("48h", 172800)]
    [InlineData("1D", 86400)]
    [InlineData("00:00:30", 30)]
    [InlineData("1:30:00", 5400)]
    [InlineData("7.00:00:00", 604800)]
    [InlineData("365.00:00:00", 31536000)]
    public void Accepted(string text, long seconds)
    {
        Assert.True(TokenLifetime.TryParse(text, out var lifetime, out var problem), problem);
        Assert.Equal(TimeSpan.FromSeconds(seconds), lifetime);
    }

    [Theory]
    [InlineData("", "not a duration")]
    [InlineData("30", "not a duration")]
    [InlineData("h", "not a duration")]
    [InlineData("1.5h", "not a duration")]
    [InlineData("1w", "not a duration")]
    [InlineData("0m", "longer than zero")]
    [InlineData("00:00:00", "longer than zero")]
    [InlineData("-01:00:00", "longer than zero")]
    [InlineData("8761h", "maximum of 365d")]
    [InlineData("365.00:00:01", "maximum of 365d")]
    [InlineData("9223372036854775807s", "maximum of 365d")]
    public void Refused(string text, string reason)
    {
        Assert.False(TokenLifetime.TryParse(text, out _, out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }
}
