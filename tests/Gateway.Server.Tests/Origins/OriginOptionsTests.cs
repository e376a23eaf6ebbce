using Gateway.Server.Origins;
using Gateway.Testing;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Tests.Origins;

/// <summary>Cors:AllowedOrigins takes origins as browsers send them; anything else stops the start, saying what to write.</summary>
public sealed class OriginOptionsTests
{
    [Theory]
    [InlineData("https://ops.example.com", "https://ops.example.com")]
    [InlineData("https://ops.example.com/", "https://ops.example.com")]
    [InlineData("HTTPS://Ops.Example.com:443", "https://ops.example.com")]
    [InlineData("http://localhost:5173", "http://localhost:5173")]
    [InlineData("http://[::1]:8080", "http://[::1]:8080")]
    public void An_origin_is_normalised_to_the_form_browsers_send(string configured, string expected)
    {
        Assert.True(OriginOptions.TryNormalize(configured, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("*")]
    [InlineData("ops.example.com")]
    [InlineData("https://ops.example.com/app")]
    [InlineData("https://ops.example.com?x=1")]
    [InlineData("ws://ops.example.com")]
    [InlineData("file:///tmp/page.html")]
    [InlineData("null")]
    public void Anything_but_an_http_origin_is_refused(string configured)
    {
        var result = new OriginOptionsValidator().Validate(null, new OriginOptions { AllowedOrigins = [configured] });

        Assert.False(result.Succeeded);
        Assert.Contains("Cors:AllowedOrigins", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_server_refuses_to_start_on_a_wildcard_origin()
    {
        using var server = new GatewayTestServer(new Dictionary<string, string?> { ["Cors:AllowedOrigins:0"] = "*" });

        var refused = Assert.ThrowsAny<OptionsValidationException>(() => server.BaseAddress);

        Assert.Contains("Cors:AllowedOrigins", refused.Message, StringComparison.Ordinal);
    }
}
