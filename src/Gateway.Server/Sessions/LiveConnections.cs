using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Sessions;

/// <summary>
/// The connections open on this node, by session id, with the per-node connection limits.
/// </summary>
/// <remarks>
/// Admission and release are atomic per user: two connections of one user racing for the last slot cannot both win.
/// Limits are per node; a cluster-wide limit would need shared state (Redis) and is left to the scale-out work.
/// </remarks>
internal sealed class LiveConnections
{
    private readonly ConcurrentDictionary<string, LiveConnection> _bySession = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perUser = new(StringComparer.Ordinal);
    private readonly Lock _admission = new();
    private readonly IOptionsMonitor<LimitOptions> _limits;
    private int _reserved;

    public LiveConnections(IOptionsMonitor<LimitOptions> limits)
    {
        _limits = limits;
    }

    public int Count => _bySession.Count;

    public IEnumerable<LiveConnection> All => _bySession.Values;

    /// <summary>Reserves a slot for a new connection of <paramref name="userId"/>; null when admitted, else the reason.</summary>
    public string? TryAdmit(string userKey)
    {
        var limits = _limits.CurrentValue;
        lock (_admission)
        {
            if (_reserved >= limits.MaxConnections)
            {
                return $"this gateway node has reached its limit of {limits.MaxConnections} connections";
            }

            var current = _perUser.GetValueOrDefault(userKey);
            if (current >= limits.MaxConnectionsPerUser)
            {
                return $"user '{userKey}' already has {current} connections, the limit per user";
            }

            _perUser[userKey] = current + 1;
            _reserved++;
            return null;
        }
    }

    /// <summary>Gives back a slot taken by <see cref="TryAdmit"/>.</summary>
    public void Release(string userKey)
    {
        lock (_admission)
        {
            if (_perUser.TryGetValue(userKey, out var current))
            {
                if (current <= 1)
                {
                    _perUser.Remove(userKey);
                }
                else
                {
                    _perUser[userKey] = current - 1;
                }

                _reserved--;
            }
        }
    }

    public void Add(LiveConnection connection) => _bySession[connection.SessionId] = connection;

    public bool Remove(string sessionId, out LiveConnection? connection) => _bySession.TryRemove(sessionId, out connection);

    public LiveConnection? Find(string sessionId) => _bySession.GetValueOrDefault(sessionId);
}
