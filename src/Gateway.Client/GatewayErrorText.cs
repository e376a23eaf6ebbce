using Gateway.Contracts;

namespace Gateway.Client;

/// <summary>The gateway's code and text inside SignalR's wrapping of a hub error or a close error.</summary>
internal static class GatewayErrorText
{
    private const string Marker = "HubException: ";

    // SignalR's own text when a message exceeds the hub's MaximumReceiveMessageSize. The gateway closes such a connection
    // with its code (message_too_large: ...), whose text says this too; a server that leaves the close to SignalR
    // sends the text alone, and only with detailed errors on.
    private const string MessageTooLargeText = "maximum message size";

    /// <summary><see cref="HubErrorCodes.CodeOf"/>, plus <see cref="HubErrorCodes.MessageTooLarge"/> for SignalR's size error; null when none.</summary>
    public static string? CodeOf(string? message) =>
        HubErrorCodes.CodeOf(message)
        ?? (message?.Contains(MessageTooLargeText, StringComparison.OrdinalIgnoreCase) == true ? HubErrorCodes.MessageTooLarge : null);

    /// <summary>
    /// "An unexpected error occurred invoking 'X' on the server. HubException: forbidden: ..." gives "forbidden: ...";
    /// a message without the marker is returned whole.
    /// </summary>
    public static string Of(string message)
    {
        var marker = message.LastIndexOf(Marker, StringComparison.Ordinal);
        return marker >= 0 ? message[(marker + Marker.Length)..] : message;
    }
}
