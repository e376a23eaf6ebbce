using Gateway.Contracts;
using Microsoft.AspNetCore.Http.Connections;

namespace Gateway.Client.Tests;

/// <summary>Settings are checked when the client is built, with messages that say what to do.</summary>
public sealed class OptionsTests
{
    private static readonly Uri Gateway = new("http://127.0.0.1:5080");

    [Theory]
    [InlineData("http://127.0.0.1:5080", "http://127.0.0.1:5080/hubs/gateway?clientId=c-1&clientVersion=1.2.3")]
    [InlineData("http://127.0.0.1:5080/", "http://127.0.0.1:5080/hubs/gateway?clientId=c-1&clientVersion=1.2.3")]
    [InlineData("https://example.com/gateway/", "https://example.com/gateway/hubs/gateway?clientId=c-1&clientVersion=1.2.3")]
    [InlineData("http://127.0.0.1:5080/hubs/gateway", "http://127.0.0.1:5080/hubs/gateway?clientId=c-1&clientVersion=1.2.3")]
    [InlineData("http://127.0.0.1:5080/hubs/gateway/?tenant=a", "http://127.0.0.1:5080/hubs/gateway?tenant=a&clientId=c-1&clientVersion=1.2.3")]
    public async Task The_hub_path_is_appended_unless_present(string url, string expected)
    {
        await using var client = new GatewayClient(new GatewayClientOptions { Url = new Uri(url), ClientId = "c-1", ClientVersion = "1.2.3" });

        Assert.Equal(expected, client.HubUrl.ToString());
    }

    [Fact]
    public async Task The_client_id_is_escaped_and_the_version_defaults_to_the_library()
    {
        await using var client = new GatewayClient(new GatewayClientOptions { Url = Gateway, ClientId = "dash board/1" });

        Assert.Contains("clientId=dash%20board%2F1", client.HubUrl.AbsoluteUri, StringComparison.Ordinal);
        Assert.Contains("clientVersion=" + GatewayClientOptions.DefaultClientVersion, client.HubUrl.AbsoluteUri, StringComparison.Ordinal);
        Assert.NotEqual("", GatewayClientOptions.DefaultClientVersion);
    }

    [Fact]
    public async Task Each_instance_generates_its_own_client_id_once()
    {
        var options = new GatewayClientOptions { Url = Gateway };
        await using var one = new GatewayClient(options);
        await using var two = new GatewayClient(options);

        Assert.NotEqual(one.ClientId, two.ClientId);
        Assert.Contains(one.ClientId, one.HubUrl.Query, StringComparison.Ordinal);
    }

    public static TheoryData<string, GatewayClientOptions> BadOptions => new()
    {
        { "Url", new GatewayClientOptions { Url = new Uri("/relative", UriKind.Relative) } },
        { "Url", new GatewayClientOptions { Url = new Uri("ftp://example.com") } },
        { "Url", new GatewayClientOptions { Url = new Uri("http://example.com/?clientId=x") } },
        { "AccessToken", new GatewayClientOptions { Url = Gateway, AccessToken = "t", AccessTokenProvider = _ => ValueTask.FromResult<string?>("t") } },
        { "Transports", new GatewayClientOptions { Url = Gateway, Transports = HttpTransportType.None } },
        { "Transports", new GatewayClientOptions { Url = Gateway, Protocol = GatewayProtocol.MessagePack, Transports = HttpTransportType.ServerSentEvents } },
        { "Protocol", new GatewayClientOptions { Url = Gateway, Protocol = (GatewayProtocol)7 } },
        { "ClientId", new GatewayClientOptions { Url = Gateway, ClientId = "" } },
        { "ClientId", new GatewayClientOptions { Url = Gateway, ClientId = new string('c', GatewayClientOptions.MaxClientIdLength + 1) } },
        { "ClientId", new GatewayClientOptions { Url = Gateway, ClientId = "line\nbreak" } },
        { "ClientVersion", new GatewayClientOptions { Url = Gateway, ClientVersion = " " } },
        { "HeartbeatInterval", new GatewayClientOptions { Url = Gateway, HeartbeatInterval = TimeSpan.Zero } },
        { "HeartbeatInterval", new GatewayClientOptions { Url = Gateway, HeartbeatInterval = TimeSpan.FromSeconds(-1) } },
        { "ConnectTimeout", new GatewayClientOptions { Url = Gateway, ConnectTimeout = TimeSpan.Zero } },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_settings_are_refused_naming_the_setting(string setting, GatewayClientOptions options)
    {
        var refused = Assert.ThrowsAny<ArgumentException>(() => new GatewayClient(options));

        Assert.Equal(setting, refused.ParamName);
        Assert.Contains(setting, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_heartbeats_and_no_reconnect_are_valid_choices()
    {
        await using var client = new GatewayClient(new GatewayClientOptions
        {
            Url = Gateway,
            HeartbeatInterval = Timeout.InfiniteTimeSpan,
            ReconnectPolicy = null,
            ConnectTimeout = Timeout.InfiniteTimeSpan,
            Protocol = GatewayProtocol.MessagePack,
            Transports = HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling,
        });

        Assert.Equal(GatewayConnectionState.Disconnected, client.State);
        Assert.Null(client.SessionId);
    }

    [Fact]
    public void Close_codes_advise_whether_to_come_back()
    {
        Assert.False(GatewayCloseCodes.ReconnectAdvised(HubErrorCodes.DisconnectedByAdmin));
        Assert.False(GatewayCloseCodes.ReconnectAdvised(GatewayCloseCodes.ClientClosed));
        Assert.True(GatewayCloseCodes.ReconnectAdvised(HubErrorCodes.TooManyConnections));
        Assert.True(GatewayCloseCodes.ReconnectAdvised(HubErrorCodes.MessageTooLarge));
    }
}
