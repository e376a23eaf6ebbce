using Gateway.Server.Sessions;

namespace Gateway.Server.Tests.Sessions;

/// <summary>Limits that make no sense stop the gateway at start with the setting's name, not at the first client.</summary>
public sealed class LimitOptionsValidatorTests
{
    [Theory]
    [InlineData(1, true)]
    [InlineData(16, true)]
    [InlineData(1024, true)]
    [InlineData(0, false)]
    [InlineData(-3, false)]
    [InlineData(1025, false)]
    public void Parallel_invocations_per_connection_must_be_1_to_1024(int value, bool valid)
    {
        var result = new LimitOptionsValidator().Validate(null, new LimitOptions { MaxParallelInvocationsPerConnection = value });

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("Limits:MaxParallelInvocationsPerConnection", result.FailureMessage, StringComparison.Ordinal);
        }
    }
}
