using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Client;

/// <summary>
/// A typed client of the gateway hub: opens a session (<see cref="StartAsync"/> returns once <c>connection.established</c>
/// arrived), keeps it alive with heartbeats, reconnects with backoff when the connection is lost, and reports why it closed.
/// </summary>
/// <remarks>
/// <para>
/// Threading: every member may be called from any thread. Events are raised one at a time, in the order they happened, on a
/// task of the client's own (never on the caller's thread and never inside SignalR's receive loop), so a handler may await hub
/// methods or call <see cref="StopAsync"/>. A slow handler delays the events after it, not the connection. A handler's
/// exception is logged and swallowed. State properties (<see cref="State"/>, <see cref="SessionId"/>) are current, so they may
/// already have moved on when a handler reads them; use the event's argument for the state that raised it.
/// </para>
/// <para>
/// Lifecycle: <see cref="Established"/> after <see cref="StartAsync"/>; on a lost connection <see cref="Reconnecting"/>, then
/// <see cref="Reconnected"/> with the new session (a reconnect is a new session of the same <see cref="ClientId"/>) or
/// <see cref="Closed"/> when the policy gives up. A <c>connection.closing</c> notice with <c>reconnect=true</c> (stale, server
/// shutdown) is followed by a reconnect even though the gateway's close message does not allow SignalR's own, and a reconnect
/// refused with a code that says to come back later (<c>too_many_connections</c>) is retried with the same policy; a notice with
/// <c>reconnect=false</c> (an admin disconnect) stops the client: <see cref="Closed"/> with the notice's code, no reconnect.
/// After <see cref="Closed"/> the client may be started again (same <see cref="ClientId"/>).
/// </para>
/// </remarks>
public sealed partial class GatewayClient : IGatewayHub, IAsyncDisposable
{
    private readonly GatewayClientOptions _options;
    private readonly ILogger _logger;
    private readonly EventDispatcher _events;

    // Serialises StartAsync, StopAsync and DisposeAsync; _gate guards the fields below and is never held across an await.
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly object _gate = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly List<Registration> _registrations = [];
    private readonly List<HubConnection> _retired = [];
    private Run? _run;
    private CancellationTokenSource? _starting;
    private GatewayConnectionState _state;
    private string? _sessionId;
    private string? _nodeId;
    private bool _sessionsSubscribed;
    private long _heartbeatsSent;
    private int _disposed;

    /// <exception cref="ArgumentException">A setting cannot work; the message says which and gives an example.</exception>
    public GatewayClient(GatewayClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        ClientId = options.ClientId ?? Guid.NewGuid().ToString();
        HubUrl = options.HubUrl(ClientId);
        _logger = options.LoggerFactory?.CreateLogger<GatewayClient>() ?? (ILogger)NullLogger.Instance;
        _events = new EventDispatcher(exception => LogHandlerFailed(exception));
    }

    /// <summary>After <see cref="StartAsync"/>: the first session of this start.</summary>
    public event Func<ConnectionEstablished, Task>? Established;

    /// <summary>The connection was lost and automatic reconnect began; the argument is what broke it, if known.</summary>
    public event Func<Exception?, Task>? Reconnecting;

    /// <summary>After a reconnect, once the new session's <c>connection.established</c> arrived (a new session id, the same client id).</summary>
    public event Func<ConnectionEstablished, Task>? Reconnected;

    /// <summary><c>connection.closing</c>: the gateway is about to close this connection, and says whether to come back.</summary>
    public event Func<ConnectionClosing, Task>? ConnectionClosing;

    /// <summary>The client closed for good (stopped, disconnected by an admin, or reconnect gave up). Not raised when <see cref="StartAsync"/> throws.</summary>
    public event Func<GatewayCloseReason, Task>? Closed;

    /// <summary><c>session.opened</c>, after <see cref="SubscribeSessions(CancellationToken)"/> (admins).</summary>
    public event Func<SessionInfo, Task>? SessionOpened;

    /// <summary><c>session.closed</c>, after <see cref="SubscribeSessions(CancellationToken)"/> (admins).</summary>
    public event Func<SessionInfo, Task>? SessionClosed;

    /// <summary>Names this client across reconnects and restarts: <see cref="GatewayClientOptions.ClientId"/>, or generated once per instance.</summary>
    public string ClientId { get; }

    /// <summary>The hub address used, with the client id and version in its query.</summary>
    public Uri HubUrl { get; }

    public GatewayConnectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>The session of the current connection; while reconnecting or after a close, the last one; null before the first.</summary>
    public string? SessionId
    {
        get
        {
            lock (_gate)
            {
                return _sessionId;
            }
        }
    }

    /// <summary>The gateway node of <see cref="SessionId"/>.</summary>
    public string? NodeId
    {
        get
        {
            lock (_gate)
            {
                return _nodeId;
            }
        }
    }

    /// <summary>Heartbeats the client's timer sent and the gateway answered, over the client's life.</summary>
    public long HeartbeatsSent => Interlocked.Read(ref _heartbeatsSent);

    /// <summary>
    /// Connects and waits for <c>connection.established</c>, so <see cref="SessionId"/> is set when it returns.
    /// </summary>
    /// <exception cref="GatewayConnectException">
    /// No session was opened; <see cref="GatewayConnectException.Code"/> says why: a refusal by the gateway (e.g.
    /// <see cref="HubErrorCodes.TooManyConnections"/>; <see cref="HubErrorCodes.RateLimited"/> for HTTP 429, too many
    /// connection attempts from this address), <see cref="GatewayCloseCodes.Unauthorized"/> (HTTP 401),
    /// <see cref="GatewayCloseCodes.ConnectTimeout"/>, or <see cref="GatewayCloseCodes.TransportError"/>. Automatic reconnect
    /// does not apply to a first start: retrying is the caller's decision.
    /// </exception>
    /// <exception cref="InvalidOperationException">The client is already started.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired, or <see cref="StopAsync"/> was called meanwhile.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        await _lifecycle.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            lock (_gate)
            {
                if (_run is not null)
                {
                    throw new InvalidOperationException($"The client is already started ({_state}); call StopAsync before starting it again.");
                }
            }

            await DisposeRetiredAsync();
            var episode = new ReconnectEpisode();
            var connection = BuildConnection(episode);
            var run = new Run(connection, episode);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
            lock (_gate)
            {
                // Only StartAsync sets _run, and it holds _lifecycle: still null here.
                Attach(run);
                _run = run;
                _starting = attempt;
                _state = GatewayConnectionState.Connecting;
            }

            if (_options.ConnectTimeout != Timeout.InfiniteTimeSpan)
            {
                attempt.CancelAfter(_options.ConnectTimeout);
            }

            try
            {
                await connection.StartAsync(attempt.Token);
                var established = await run.FirstEstablished.Task.WaitAsync(attempt.Token);
                LogStarted(established.SessionId, ClientId, HubUrl);
            }
            catch (Exception exception)
            {
                bool stopped;
                lock (_gate)
                {
                    stopped = run.StopRequested;
                }

                await AbandonAsync(run);
                throw StartFailure(exception, stopped, cancellationToken);
            }
            finally
            {
                lock (_gate)
                {
                    _starting = null;
                }
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Closes the connection (or ends a reconnect or a start in progress); <see cref="Closed"/> follows with
    /// <see cref="GatewayCloseCodes.ClientClosed"/>. Does nothing when not started.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        await StopCoreAsync(cancellationToken);
    }

    /// <summary>Stops the client, raises the events still queued (<see cref="Closed"/> among them) and releases the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await StopCoreAsync(CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            LogStopFailed(exception);
        }

        await _lifetime.CancelAsync();
        await _events.DisposeAsync();
        await _lifecycle.WaitAsync(CancellationToken.None);
        try
        {
            await DisposeRetiredAsync();
        }
        finally
        {
            _lifecycle.Release();
        }

        _lifetime.Dispose();
    }

    /// <summary>Keeps the session alive (the timer does this by itself); answers with the gateway's time.</summary>
    /// <exception cref="GatewayHubException">The gateway refused (e.g. <see cref="HubErrorCodes.RateLimited"/>).</exception>
    /// <exception cref="InvalidOperationException">The client is not connected.</exception>
    public Task<HeartbeatReply> Heartbeat(CancellationToken cancellationToken = default) =>
        InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat), [], cancellationToken);

    /// <summary>
    /// Admin: receive <see cref="SessionOpened"/> and <see cref="SessionClosed"/> for every session. Remembered: after a
    /// reconnect the client subscribes its new connection again before raising <see cref="Reconnected"/>.
    /// </summary>
    /// <exception cref="GatewayHubException"><see cref="HubErrorCodes.Forbidden"/> without the admin role.</exception>
    public async Task SubscribeSessions(CancellationToken cancellationToken = default)
    {
        await InvokeAsync(nameof(IGatewayHub.SubscribeSessions), [], cancellationToken);
        lock (_gate)
        {
            _sessionsSubscribed = true;
        }
    }

    /// <summary>Admin: stop receiving session events (also after later reconnects).</summary>
    public async Task UnsubscribeSessions(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _sessionsSubscribed = false;
        }

        await InvokeAsync(nameof(IGatewayHub.UnsubscribeSessions), [], cancellationToken);
    }

    /// <summary>Admin: close a live session with a reason (1 to 200 characters); false when it was not open.</summary>
    /// <exception cref="GatewayHubException">
    /// <see cref="HubErrorCodes.Forbidden"/>, <see cref="HubErrorCodes.NotFound"/> or <see cref="HubErrorCodes.InvalidArgument"/>.
    /// </exception>
    public Task<bool> DisconnectSession(string sessionId, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        ArgumentNullException.ThrowIfNull(reason);
        return InvokeAsync<bool>(nameof(IGatewayHub.DisconnectSession), [sessionId, reason], cancellationToken);
    }

    // IGatewayHub mirrors the hub, whose methods take no token (the server uses the connection's); the public overloads do.
    Task<HeartbeatReply> IGatewayHub.Heartbeat() => Heartbeat(CancellationToken.None);

    Task IGatewayHub.SubscribeSessions() => SubscribeSessions(CancellationToken.None);

    Task IGatewayHub.UnsubscribeSessions() => UnsubscribeSessions(CancellationToken.None);

    Task<bool> IGatewayHub.DisconnectSession(string sessionId, string reason) => DisconnectSession(sessionId, reason, CancellationToken.None);

    /// <summary>
    /// Handles a server event this client has no typed event for (yet). Raised like the typed events (in order, on the
    /// client's event task); kept across reconnects and restarts. Dispose the result to stop.
    /// </summary>
    public IDisposable On<T>(string target, Func<T, Task> handler)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        ArgumentNullException.ThrowIfNull(handler);
        var registration = new Registration(this, connection => connection.On<T>(target, argument =>
        {
            Raise(handler, argument);
            return Task.CompletedTask;
        }));
        lock (_gate)
        {
            _registrations.Add(registration);
            if (_run is { } run)
            {
                registration.AttachTo(run.Connection);
            }
        }

        return registration;
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        CancellationTokenSource? starting;
        lock (_gate)
        {
            starting = _starting;
            if (starting is not null && _run is { } run)
            {
                run.StopRequested = true;
            }
        }

        if (starting is not null)
        {
            try
            {
                await starting.CancelAsync();
            }
            catch (ObjectDisposedException)
            {
                // The start finished meanwhile; the run below is stopped instead.
            }
        }

        await _lifecycle.WaitAsync(cancellationToken);
        try
        {
            Run? current;
            lock (_gate)
            {
                current = _run;
                if (current is null)
                {
                    return;
                }

                current.StopRequested = true;
                StopHeartbeats(current);
            }

            // Ends a reconnect of the client's own between attempts, or in one.
            await current.Cancellation.CancelAsync();
            await current.Connection.StopAsync(cancellationToken);
            OnClosed(current, null);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Gives up a run whose start failed, without events.</summary>
    private async Task AbandonAsync(Run run)
    {
        lock (_gate)
        {
            run.Ended = true;
            run.StopRequested = true;
            StopHeartbeats(run);
            _ = run.Cancellation.CancelAsync();
            if (_run == run)
            {
                _run = null;
                _state = GatewayConnectionState.Disconnected;
            }
        }

        try
        {
            await run.Connection.DisposeAsync();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            LogStopFailed(exception);
        }
    }

    private async Task DisposeRetiredAsync()
    {
        HubConnection[] retired;
        lock (_gate)
        {
            retired = [.. _retired];
            _retired.Clear();
        }

        foreach (var connection in retired)
        {
            try
            {
                await connection.DisposeAsync();
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                LogStopFailed(exception);
            }
        }
    }

    private async Task InvokeAsync(string method, object?[] arguments, CancellationToken cancellationToken)
    {
        var connection = ConnectedConnection(method);
        try
        {
            await connection.InvokeCoreAsync(method, arguments, cancellationToken);
        }
        catch (HubException exception)
        {
            throw HubError(exception);
        }
    }

    private async Task<T> InvokeAsync<T>(string method, object?[] arguments, CancellationToken cancellationToken)
    {
        var connection = ConnectedConnection(method);
        try
        {
            return await connection.InvokeCoreAsync<T>(method, arguments, cancellationToken);
        }
        catch (HubException exception)
        {
            throw HubError(exception);
        }
    }

    private HubConnection ConnectedConnection(string method)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_gate)
        {
            return _run is { } run && _state == GatewayConnectionState.Connected
                ? run.Connection
                : throw new InvalidOperationException($"{method} needs a connected client, and this one is {_state}; call StartAsync first, or wait for Reconnected.");
        }
    }
}
