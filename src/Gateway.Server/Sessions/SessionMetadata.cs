using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Server.Sessions;

/// <summary>
/// The JSON kept in <c>sessions.metadata</c>. Closing a session adds <c>closeReason</c> and <c>closedAt</c>
/// (SQLite's json_set, so what a client may have stored is kept). The row of a refused connection carries
/// <c>unrecordedRefusals</c>: the user's refused attempts since the previous recorded one that got no row of their own.
/// </summary>
internal sealed record SessionMetadata(
    [property: JsonPropertyName("protocol")] string Protocol,
    [property: JsonPropertyName("transport")] string Transport,
    [property: JsonPropertyName("userAgent")] string? UserAgent,
    [property: JsonPropertyName("remoteAddress")] string? RemoteAddress,
    [property: JsonPropertyName("clientVersion")] string? ClientVersion,
    [property: JsonPropertyName("nodeId")] string NodeId,
    [property: JsonPropertyName("closeReason")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CloseReason = null,
    [property: JsonPropertyName("unrecordedRefusals")][property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? UnrecordedRefusals = null)
{
    /// <summary>The JSON path the node id is stored at, for the start-up sweep.</summary>
    public const string NodeIdPath = "$.nodeId";

    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>The node a session's metadata names, or null (no metadata, another writer's, or invalid JSON).</summary>
    public static string? NodeOf(string? metadata)
    {
        if (string.IsNullOrEmpty(metadata))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(metadata);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("nodeId", out var node) && node.ValueKind == JsonValueKind.String
                    ? node.GetString()
                    : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
