using Gateway.Contracts;

namespace Gateway.Client;

/// <summary>Why a <see cref="GatewayClient"/> closed for good (it will not reconnect by itself).</summary>
/// <param name="Code">
/// The gateway's code from its <c>connection.closing</c> notice (e.g. <see cref="HubErrorCodes.DisconnectedByAdmin"/>), else
/// the code in the close error (e.g. <see cref="HubErrorCodes.TooManyConnections"/>), else one of <see cref="GatewayCloseCodes"/>.
/// </param>
/// <param name="Message">The gateway's reason or the close error's text.</param>
/// <param name="ReconnectAdvised">
/// Whether starting again later makes sense: the gateway's own advice when it sent a notice; false for
/// <see cref="GatewayCloseCodes.ClientClosed"/> and for codes that retrying cannot change (disconnected by an admin,
/// forbidden, invalid argument, unauthorized); true otherwise.
/// </param>
/// <param name="Exception">What SignalR closed with, if anything.</param>
/// <param name="SessionId">The last session of the connection, if one was established.</param>
public sealed record GatewayCloseReason(string Code, string Message, bool ReconnectAdvised, Exception? Exception, string? SessionId);

/// <summary>Codes the client itself gives a close or a failed start, beside the gateway's <see cref="HubErrorCodes"/>.</summary>
public static class GatewayCloseCodes
{
    /// <summary>The application called <see cref="GatewayClient.StopAsync"/> or disposed the client.</summary>
    public const string ClientClosed = "client_closed";

    /// <summary>The connection broke without a reason from the gateway, and no automatic reconnect was configured.</summary>
    public const string TransportError = "transport_error";

    /// <summary>The gateway closed the connection cleanly without saying why.</summary>
    public const string ServerClosed = "server_closed";

    /// <summary>Automatic reconnect gave up (the policy's <see cref="GatewayReconnectPolicy.MaxAttempts"/> ran out).</summary>
    public const string ReconnectFailed = "reconnect_failed";

    /// <summary>The gateway refused the access token (HTTP 401): missing, malformed, expired or signed with another key.</summary>
    public const string Unauthorized = "unauthorized";

    /// <summary><see cref="GatewayClientOptions.ConnectTimeout"/> passed before <c>connection.established</c>.</summary>
    public const string ConnectTimeout = "connect_timeout";

    /// <summary>
    /// Subscribing again after a reconnect failed on a connection that stayed up (the gateway answered with an error
    /// such as <see cref="HubErrorCodes.Internal"/> or <see cref="HubErrorCodes.DatabaseBusy"/>): the client ends that
    /// connection and reconnects with its policy, to subscribe again from the same position.
    /// </summary>
    public const string ResubscribeFailed = "resubscribe_failed";

    /// <summary>Whether coming back can help after a close with <paramref name="code"/> (no notice from the gateway).</summary>
    internal static bool ReconnectAdvised(string code) => code is not (ClientClosed or Unauthorized
        or HubErrorCodes.DisconnectedByAdmin or HubErrorCodes.Forbidden or HubErrorCodes.InvalidArgument);
}
