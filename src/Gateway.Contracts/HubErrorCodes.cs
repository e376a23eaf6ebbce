namespace Gateway.Contracts;

/// <summary>
/// Stable codes at the start of every hub error message (<c>"code: text"</c>) and in close reasons.
/// A client decides from the code, never from the text.
/// </summary>
public static class HubErrorCodes
{
    /// <summary>The caller's role does not allow the method. Do not retry.</summary>
    public const string Forbidden = "forbidden";

    /// <summary>More invocations than the per-connection token bucket allows. Retry later.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>The gateway or this user has as many connections as allowed. Reconnect later.</summary>
    public const string TooManyConnections = "too_many_connections";

    /// <summary>A message larger than the gateway accepts closed the connection.</summary>
    public const string MessageTooLarge = "message_too_large";

    /// <summary>An argument is missing, of the wrong type or out of range. Fix the call.</summary>
    public const string InvalidArgument = "invalid_argument";

    /// <summary>An illegal status transition, or another change won the race for the same row. Reload and decide.</summary>
    public const string Conflict = "conflict";

    /// <summary>The id names nothing.</summary>
    public const string NotFound = "not_found";

    /// <summary>An administrator closed the session.</summary>
    public const string DisconnectedByAdmin = "disconnected_by_admin";

    /// <summary>No heartbeat or invocation within the stale timeout.</summary>
    public const string Stale = "stale";

    /// <summary>The connection's token expired.</summary>
    public const string TokenExpired = "token_expired";

    /// <summary>The node is shutting down; reconnect (to another node).</summary>
    public const string ServerShutdown = "server_shutdown";

    /// <summary>
    /// The node's registry row went unbeaten past <c>Node:LostAfterSeconds</c> (it lost its database, or stalled), and a
    /// peer closed its sessions; reconnect (to any node).
    /// </summary>
    public const string NodeLost = "node_lost";

    /// <summary>
    /// The node cannot reach the database (PostgreSQL) for longer than half of <c>Node:LostAfterSeconds</c>: it stops
    /// serving rather than serve a view that no longer moves, and its clients are told to reconnect (a balancer sends
    /// them to another node). Its new connections are refused with HTTP 503 until it reaches the database again.
    /// </summary>
    public const string NodeUnavailable = "node_unavailable";

    /// <summary>
    /// The database stayed locked by another writer past the gateway's busy timeout; nothing was written. Retry.
    /// </summary>
    public const string DatabaseBusy = "database_busy";

    /// <summary>The database's disk is full; nothing was written. Retry later: the gateway recovers by itself when space returns.</summary>
    public const string DatabaseFull = "database_full";

    /// <summary>The database file or its file system is read-only; nothing was written.</summary>
    public const string DatabaseReadOnly = "database_read_only";

    /// <summary>The database failed with an I/O error; nothing was written. Retry later.</summary>
    public const string DatabaseUnavailable = "database_unavailable";

    /// <summary>
    /// The connection to the database was lost while the change was being committed, and the database could not be
    /// asked in time whether it was: the change may have been applied. Read the row before sending the change again.
    /// </summary>
    public const string CommitOutcomeUnknown = "commit_outcome_unknown";

    /// <summary>Anything else; the server logged the details.</summary>
    public const string Internal = "internal";

    /// <summary>The code of a message built as <c>"code: text"</c>, or null.</summary>
    public static string? CodeOf(string? message)
    {
        if (string.IsNullOrEmpty(message))
        {
            return null;
        }

        // SignalR prefixes server errors with its own text ("An unexpected error occurred invoking 'X' on the server. HubException: ").
        var marker = message.LastIndexOf("HubException: ", StringComparison.Ordinal);
        var text = marker >= 0 ? message[(marker + "HubException: ".Length)..] : message;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && text[..colon].All(c => char.IsAsciiLetterLower(c) || c == '_') ? text[..colon] : null;
    }
}
