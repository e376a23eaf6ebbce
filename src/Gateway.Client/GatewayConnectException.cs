using System.Net;
using Gateway.Contracts;

namespace Gateway.Client;

/// <summary>
/// <see cref="GatewayClient.StartAsync"/> could not open a session. <see cref="Code"/> says why: a gateway refusal
/// (e.g. <see cref="HubErrorCodes.TooManyConnections"/>, <see cref="HubErrorCodes.ServerShutdown"/>), or one of
/// <see cref="GatewayCloseCodes"/> (<see cref="GatewayCloseCodes.Unauthorized"/>, <see cref="GatewayCloseCodes.ConnectTimeout"/>,
/// <see cref="GatewayCloseCodes.TransportError"/>).
/// </summary>
public sealed class GatewayConnectException : Exception
{
    public GatewayConnectException()
        : this(GatewayCloseCodes.TransportError, "Could not connect to the gateway.")
    {
    }

    public GatewayConnectException(string message)
        : this(GatewayCloseCodes.TransportError, message)
    {
    }

    public GatewayConnectException(string message, Exception? innerException)
        : this(GatewayCloseCodes.TransportError, message, innerException)
    {
    }

    public GatewayConnectException(string code, string message, Exception? innerException = null, HttpStatusCode? statusCode = null)
        : base(message, innerException)
    {
        Code = code;
        StatusCode = statusCode;
    }

    public string Code { get; }

    /// <summary>The HTTP status the gateway answered with, when the failure was one (e.g. 401).</summary>
    public HttpStatusCode? StatusCode { get; }
}
