namespace Gateway.Client;

/// <summary>The gateway's own text inside SignalR's wrapping of a hub error.</summary>
internal static class GatewayErrorText
{
    private const string Marker = "HubException: ";

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
