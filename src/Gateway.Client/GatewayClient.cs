using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
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
/// <see cref="Closed"/> when the policy gives up. A <c>connection.closing</c> notice with <c>reconnect=false</c> (an admin
/// disconnect) stops the client: <see cref="Closed"/> with the notice's code, no reconnect. After <see cref="Closed"/> the client
/// may be started again.
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
    /// <see cref="HubErrorCodes.TooManyConnections"/>), <see cref="GatewayCloseCodes.Unauthorized"/> (HTTP 401),
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
            var connection = BuildConnection();
            var run = new Run(connection);
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

    private HubConnection BuildConnection()
    {
        var builder = new HubConnectionBuilder().WithUrl(HubUrl, _options.Transports, http =>
        {
            if (_options.AccessTokenProvider is { } provider)
            {
                http.AccessTokenProvider = async () => await provider(_lifetime.Token);
            }
            else if (_options.AccessToken is { } token)
            {
                http.AccessTokenProvider = () => Task.FromResult<string?>(token);
            }
        });
        if (_options.ReconnectPolicy is { } policy)
        {
            builder.WithAutomaticReconnect(policy);
        }

        if (_options.Protocol == GatewayProtocol.MessagePack)
        {
            builder.AddMessagePackProtocol();
        }

        if (_options.LoggerFactory is { } loggerFactory)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        return builder.Build();
    }

    /// <summary>Wires a new connection to this run; called under <see cref="_gate"/>.</summary>
    private void Attach(Run run)
    {
        var connection = run.Connection;
        connection.On<ConnectionEstablished>(nameof(IGatewayClient.ConnectionEstablished), established => OnEstablished(run, established));
        connection.On<ConnectionClosing>(nameof(IGatewayClient.ConnectionClosing), notice => OnClosing(run, notice));
        connection.On<SessionInfo>(nameof(IGatewayClient.SessionOpened), session =>
        {
            Raise(SessionOpened, session);
            return Task.CompletedTask;
        });
        connection.On<SessionInfo>(nameof(IGatewayClient.SessionClosed), session =>
        {
            Raise(SessionClosed, session);
            return Task.CompletedTask;
        });
        connection.Reconnecting += exception => OnReconnecting(run, exception);
        connection.Reconnected += _ =>
        {
            LogTransportReconnected(ClientId);
            return Task.CompletedTask;
        };
        connection.Closed += exception =>
        {
            OnClosed(run, exception);
            return Task.CompletedTask;
        };
        foreach (var registration in _registrations)
        {
            registration.AttachTo(connection);
        }
    }

    // Handlers of SignalR's callbacks. Message handlers run inside SignalR's receive loop: they update state and queue events, never await.
    private Task OnEstablished(Run run, ConnectionEstablished established)
    {
        bool reconnected;
        bool resubscribe;
        lock (_gate)
        {
            if (run != _run || run.Ended)
            {
                return Task.CompletedTask;
            }

            reconnected = run.Sessions > 0;
            run.Sessions++;
            run.Notice = null;
            run.Reconnecting = false;
            run.ReconnectingAfterNotice = false;
            run.Attempt?.TrySetResult(established);
            run.Attempt = null;
            _sessionId = established.SessionId;
            _nodeId = established.NodeId;
            _state = GatewayConnectionState.Connected;
            resubscribe = reconnected && _sessionsSubscribed;
            StartHeartbeats(run, established);
        }

        run.FirstEstablished.TrySetResult(established);
        if (!reconnected)
        {
            Raise(Established, established);
            return Task.CompletedTask;
        }

        LogReconnected(established.SessionId, ClientId);
        _events.Post(async () =>
        {
            // On the event task, not here: the subscription's result comes through the receive loop this handler runs in.
            if (resubscribe)
            {
                await ResubscribeAsync(run);
            }

            await InvokeHandlersAsync(Reconnected, established);
        });
        return Task.CompletedTask;
    }

    private Task OnClosing(Run run, ConnectionClosing notice)
    {
        bool stop;
        lock (_gate)
        {
            if (run != _run || run.Ended)
            {
                return Task.CompletedTask;
            }

            run.Notice = notice;
            stop = !notice.Reconnect;
            if (stop)
            {
                StopHeartbeats(run);
            }
        }

        LogClosing(notice.Code, notice.Reconnect);
        Raise(ConnectionClosing, notice);
        if (stop)
        {
            // The gateway says not to come back: close now rather than be aborted and reconnect. Not awaited here, since
            // stopping waits for the receive loop this handler runs in.
            _ = Task.Run(() => EndAsync(run));
        }

        return Task.CompletedTask;
    }

    private Task OnReconnecting(Run run, Exception? exception)
    {
        lock (_gate)
        {
            if (run != _run || run.Ended)
            {
                return Task.CompletedTask;
            }

            StopHeartbeats(run);
            run.Reconnecting = true;
            if (run.StopRequested || run.Notice is { Reconnect: false } || run.Sessions == 0)
            {
                // Stopping anyway, or still in StartAsync (which reports the outcome): nothing to announce.
                return Task.CompletedTask;
            }

            _state = GatewayConnectionState.Reconnecting;
        }

        LogReconnecting(exception, ClientId);
        Raise(Reconnecting, exception);
        return Task.CompletedTask;
    }

    /// <summary>
    /// SignalR's Closed, or the end of a stop. Ends the run (only the first call counts), except where the gateway said to
    /// come back: after a <c>connection.closing</c> notice with <c>reconnect=true</c> the gateway closes the connection with a
    /// close message that does not allow SignalR to reconnect, so the client reconnects by itself with the same policy.
    /// </summary>
    private void OnClosed(Run run, Exception? exception)
    {
        GatewayCloseReason reason;
        lock (_gate)
        {
            if (run.Ended)
            {
                return;
            }

            if (run.ReconnectingAfterNotice && !run.StopRequested)
            {
                // One attempt of that reconnect closed (refused, say): the attempt's loop decides what follows.
                run.Attempt?.TrySetException(RefusalOf(exception));
                return;
            }

            if (run.Sessions > 0 && !run.StopRequested && !run.Reconnecting && run.Notice is { Reconnect: true } notice
                && _options.ReconnectPolicy is { } policy && HubErrorCodes.CodeOf(exception?.Message) is null)
            {
                StopHeartbeats(run);
                run.ReconnectingAfterNotice = true;
                _state = GatewayConnectionState.Reconnecting;
                var reconnecting = exception ?? new HubException($"{notice.Code}: {notice.Reason}");
                _ = Task.Run(() => ReconnectAfterNoticeAsync(run, policy, reconnecting));
                LogReconnecting(exception, ClientId);
                Raise(Reconnecting, exception);
                return;
            }

            if (!TryEnd(run, exception, out var ended))
            {
                return;
            }

            reason = ended;
        }

        LogClosed(reason.Code, reason.SessionId);
        Raise(Closed, reason);
    }

    /// <summary>
    /// Marks the run ended; false when there is no session to report closed (a refused start: StartAsync throws instead).
    /// Called under <see cref="_gate"/>.
    /// </summary>
    private bool TryEnd(Run run, Exception? exception, [NotNullWhen(true)] out GatewayCloseReason? reason, string? code = null)
    {
        run.Ended = true;
        StopHeartbeats(run);
        _ = run.Cancellation.CancelAsync();
        if (_run == run)
        {
            _run = null;
            _state = GatewayConnectionState.Disconnected;
            _retired.Add(run.Connection);
        }

        if (run.Sessions == 0)
        {
            // Closed before connection.established (a refusal): StartAsync throws it; there is no session to report closed.
            run.FirstEstablished.TrySetException(RefusalOf(exception));
            reason = null;
            return false;
        }

        reason = code is null
            ? ReasonFor(run, exception, _sessionId)
            : new GatewayCloseReason(code, exception?.Message ?? "Reconnecting gave up.", GatewayCloseCodes.ReconnectAdvised(code), exception, _sessionId);
        return true;
    }

    /// <summary>
    /// Reconnects a run the gateway closed after telling it to come back: the run's connection is started again with the
    /// delays of <paramref name="policy"/>, until a session is established, the policy gives up, the gateway refuses with a
    /// code, or the client is stopped.
    /// </summary>
    private async Task ReconnectAfterNoticeAsync(Run run, IRetryPolicy policy, Exception reason)
    {
        var started = Stopwatch.GetTimestamp();
        var cancellation = run.Cancellation.Token;
        for (var attempts = 0; ; attempts++)
        {
            var delay = policy.NextRetryDelay(new RetryContext
            {
                PreviousRetryCount = attempts,
                ElapsedTime = Stopwatch.GetElapsedTime(started),
                RetryReason = reason,
            });
            if (delay is null)
            {
                EndReconnect(run, reason, GatewayCloseCodes.ReconnectFailed);
                return;
            }

            var attempt = new TaskCompletionSource<ConnectionEstablished>(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                await Task.Delay(delay.Value, cancellation);
                lock (_gate)
                {
                    if (run.Ended || run.StopRequested)
                    {
                        return;
                    }

                    run.Attempt = attempt;
                }

                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                if (_options.ConnectTimeout != Timeout.InfiniteTimeSpan)
                {
                    timeout.CancelAfter(_options.ConnectTimeout);
                }

                await run.Connection.StartAsync(timeout.Token);
                await attempt.Task.WaitAsync(timeout.Token);
                return;
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                // Stopped: StopAsync ends the run.
                return;
            }
            catch (GatewayConnectException refused) when (refused.Code != GatewayCloseCodes.TransportError)
            {
                // The gateway answered, with a reason: what SignalR does when a reconnect is refused, stop.
                EndReconnect(run, refused.InnerException ?? refused, refused.Code);
                return;
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                reason = exception;
                LogReconnectAttemptFailed(exception, attempts + 1);
                await StopQuietlyAsync(run.Connection);
            }
        }
    }

    private void EndReconnect(Run run, Exception reason, string code)
    {
        GatewayCloseReason? closed;
        lock (_gate)
        {
            if (run.Ended || run.StopRequested || !TryEnd(run, reason, out closed, code))
            {
                return;
            }
        }

        LogClosed(closed.Code, closed.SessionId);
        Raise(Closed, closed);
    }

    private async Task StopQuietlyAsync(HubConnection connection)
    {
        try
        {
            await connection.StopAsync(CancellationToken.None);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            LogStopFailed(exception);
        }
    }

    private async Task EndAsync(Run run)
    {
        await StopQuietlyAsync(run.Connection);
        OnClosed(run, null);
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

    private async Task ResubscribeAsync(Run run)
    {
        try
        {
            await run.Connection.InvokeCoreAsync(nameof(IGatewayHub.SubscribeSessions), [], _lifetime.Token);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The connection may already be gone again; the next reconnect tries again.
            LogResubscribeFailed(exception);
        }
    }

    /// <summary>Heartbeats on a timer for the current connection; called under <see cref="_gate"/>.</summary>
    private void StartHeartbeats(Run run, ConnectionEstablished established)
    {
        StopHeartbeats(run);
        var interval = _options.HeartbeatInterval ?? TimeSpan.FromSeconds(established.HeartbeatIntervalSeconds);
        if (interval == Timeout.InfiniteTimeSpan || interval <= TimeSpan.Zero)
        {
            return;
        }

        interval = TimeSpan.FromMilliseconds(Math.Min(interval.TotalMilliseconds, uint.MaxValue - 1));
        var stop = new CancellationTokenSource();
        run.Heartbeats = stop;
        _ = Task.Run(() => HeartbeatLoopAsync(run.Connection, interval, stop.Token));
    }

    /// <summary>Called under <see cref="_gate"/>; cancellation callbacks run on the thread pool, not under the lock.</summary>
    private static void StopHeartbeats(Run run)
    {
        if (run.Heartbeats is { } stop)
        {
            run.Heartbeats = null;
            _ = stop.CancelAsync();
        }
    }

    private async Task HeartbeatLoopAsync(HubConnection connection, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await connection.InvokeAsync<HeartbeatReply>(nameof(IGatewayHub.Heartbeat), cancellationToken);
                    Interlocked.Increment(ref _heartbeatsSent);
                }
                catch (Exception exception) when (!cancellationToken.IsCancellationRequested && exception is not OutOfMemoryException)
                {
                    // Ignored: a broken connection is SignalR's to notice and reconnect; a refused beat (rate limit) is retried next tick.
                    LogHeartbeatFailed(exception);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
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

    private void Raise<T>(Func<T, Task>? handlers, T argument)
    {
        if (handlers is not null)
        {
            _events.Post(() => InvokeHandlersAsync(handlers, argument));
        }
    }

    /// <summary>Each handler in turn; one failing does not keep the others from running.</summary>
    private async Task InvokeHandlersAsync<T>(Func<T, Task>? handlers, T argument)
    {
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<Func<T, Task>>())
        {
            try
            {
                await handler(argument);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                LogHandlerFailed(exception);
            }
        }
    }

    private static GatewayHubException HubError(HubException exception) =>
        new(HubErrorCodes.CodeOf(exception.Message), GatewayErrorText.Of(exception.Message), exception);

    private static GatewayConnectException RefusalOf(Exception? exception)
    {
        var code = HubErrorCodes.CodeOf(exception?.Message);
        return code is not null
            ? new GatewayConnectException(code, $"The gateway refused the connection: {GatewayErrorText.Of(exception!.Message)}", exception)
            : new GatewayConnectException(
                GatewayCloseCodes.TransportError,
                $"The connection closed before the gateway opened a session{(exception is null ? "" : ": " + exception.Message)}",
                exception);
    }

    /// <summary>Why a run that had a session ended; called under <see cref="_gate"/>.</summary>
    private static GatewayCloseReason ReasonFor(Run run, Exception? exception, string? sessionId)
    {
        if (run.StopRequested)
        {
            return new(GatewayCloseCodes.ClientClosed, "The client closed the connection.", false, exception, sessionId);
        }

        if (run.Notice is { Reconnect: false } final)
        {
            return new(final.Code, final.Reason, false, exception, sessionId);
        }

        if (HubErrorCodes.CodeOf(exception?.Message) is { } code)
        {
            return new(code, GatewayErrorText.Of(exception!.Message), GatewayCloseCodes.ReconnectAdvised(code), exception, sessionId);
        }

        if (run.Reconnecting)
        {
            return new(GatewayCloseCodes.ReconnectFailed, exception?.Message ?? "Automatic reconnect gave up.", true, exception, sessionId);
        }

        if (run.Notice is { } notice)
        {
            return new(notice.Code, notice.Reason, notice.Reconnect, exception, sessionId);
        }

        return exception is null
            ? new(GatewayCloseCodes.ServerClosed, "The gateway closed the connection.", true, null, sessionId)
            : new(GatewayCloseCodes.TransportError, exception.Message, true, exception, sessionId);
    }

    private Exception StartFailure(Exception exception, bool stopped, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return new OperationCanceledException("StartAsync was cancelled.", exception, cancellationToken);
        }

        if (stopped || _lifetime.IsCancellationRequested)
        {
            return new OperationCanceledException("The client was stopped or disposed while starting.", exception);
        }

        if (exception is GatewayConnectException refused)
        {
            return refused;
        }

        if (exception is OperationCanceledException)
        {
            return new GatewayConnectException(
                GatewayCloseCodes.ConnectTimeout,
                $"No session from the gateway at {HubUrl} within {_options.ConnectTimeout.TotalSeconds:0.###} s (ConnectTimeout).",
                exception);
        }

        if (StatusOf(exception) is { } status)
        {
            return status == HttpStatusCode.Unauthorized
                ? new GatewayConnectException(
                    GatewayCloseCodes.Unauthorized,
                    $"The gateway at {HubUrl} refused the access token (401 Unauthorized): it is missing, malformed, expired or signed with another key.",
                    exception,
                    status)
                : new GatewayConnectException(
                    status == HttpStatusCode.Forbidden ? HubErrorCodes.Forbidden : GatewayCloseCodes.TransportError,
                    $"The gateway at {HubUrl} answered {(int)status} {status}.",
                    exception,
                    status);
        }

        if (exception is HubException && HubErrorCodes.CodeOf(exception.Message) is not null)
        {
            return RefusalOf(exception);
        }

        return new GatewayConnectException(GatewayCloseCodes.TransportError, $"Could not connect to the gateway at {HubUrl}: {exception.Message}", exception);
    }

    /// <summary>The HTTP status of a failed negotiate or transport request, looking inside SignalR's aggregate of transport failures.</summary>
    private static HttpStatusCode? StatusOf(Exception exception) => exception switch
    {
        HttpRequestException { StatusCode: { } status } => status,
        AggregateException aggregate => aggregate.InnerExceptions.Select(StatusOf).FirstOrDefault(status => status is not null),
        { InnerException: { } inner } => StatusOf(inner),
        _ => null,
    };

    /// <summary>One start of the client: its connection, across that connection's automatic reconnects.</summary>
    private sealed class Run(HubConnection connection)
    {
        public HubConnection Connection { get; } = connection;

        public TaskCompletionSource<ConnectionEstablished> FirstEstablished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>connection.established messages received: 0 while starting, 1 after the first, more after reconnects.</summary>
        public int Sessions { get; set; }

        public bool StopRequested { get; set; }

        public bool Reconnecting { get; set; }

        public bool Ended { get; set; }

        /// <summary>The notice received on the current connection, if any.</summary>
        public ConnectionClosing? Notice { get; set; }

        public CancellationTokenSource? Heartbeats { get; set; }

        /// <summary>Cancelled when the run ends or is stopped (ends a reconnect of the client's own).</summary>
        public CancellationTokenSource Cancellation { get; } = new();

        /// <summary>The client reconnects by itself, after a notice with reconnect=true and SignalR's plain close.</summary>
        public bool ReconnectingAfterNotice { get; set; }

        /// <summary>The established message an attempt of that reconnect waits for.</summary>
        public TaskCompletionSource<ConnectionEstablished>? Attempt { get; set; }
    }

    /// <summary>A handler of <see cref="On{T}"/>, attached to every connection of the client until disposed.</summary>
    private sealed class Registration(GatewayClient owner, Func<HubConnection, IDisposable> attach) : IDisposable
    {
        private IDisposable? _current;

        /// <summary>Called under the owner's gate.</summary>
        public void AttachTo(HubConnection connection) => _current = attach(connection);

        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._registrations.Remove(this);
                _current?.Dispose();
                _current = null;
            }
        }
    }
}
