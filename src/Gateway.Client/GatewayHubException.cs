using Gateway.Contracts;

namespace Gateway.Client;

/// <summary>
/// A hub method failed on the gateway. <see cref="Code"/> is one of <see cref="HubErrorCodes"/> (decide on it, never on
/// the text); the connection stays open.
/// </summary>
public sealed class GatewayHubException : Exception
{
    public GatewayHubException()
        : this(null, "The gateway reported an error.")
    {
    }

    public GatewayHubException(string message)
        : this(HubErrorCodes.CodeOf(message), message)
    {
    }

    public GatewayHubException(string message, Exception? innerException)
        : this(HubErrorCodes.CodeOf(message), message, innerException)
    {
    }

    public GatewayHubException(string? code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code ?? HubErrorCodes.Internal;
    }

    /// <summary>The gateway's code; <see cref="HubErrorCodes.Internal"/> when the error carried none.</summary>
    public string Code { get; }
}
