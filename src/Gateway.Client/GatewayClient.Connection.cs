using System.Diagnostics.CodeAnalysis;
using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Client;

// The connection of a run and SignalR's callbacks: state changes under the gate, events queued, never awaited inside the receive loop.
public sealed partial class GatewayClient
{
    private HubConnection BuildConnection(ReconnectEpisode episode)
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
            builder.WithAutomaticReconnect(new EpisodeRetryPolicy(policy, episode, _gate));
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
        bool resubscribeEvents;
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
            run.ReconnectingByClient = false;
            run.Episode.Reset();
            run.Attempt?.TrySetResult(established);
            run.Attempt = null;
            _sessionId = established.SessionId;
            _nodeId = established.NodeId;
            _state = GatewayConnectionState.Connected;
            resubscribe = reconnected && _sessionsSubscribed;
            resubscribeEvents = reconnected;
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
            // A failed subscription ends this connection to reconnect again; Reconnected waits for a connection that has them all.
            if (resubscribe && await ResubscribeAsync(run))
            {
                return;
            }

            if (resubscribeEvents && HasEventSubscriptions && await ResubscribeEventsAsync(run))
            {
                return;
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
    /// come back and SignalR will not: after a <c>connection.closing</c> notice with <c>reconnect=true</c> the gateway closes
    /// with a close message that does not allow SignalR's reconnect, and a reconnect the gateway refuses with a code that says
    /// to come back later (<c>server_shutdown</c>, <c>too_many_connections</c>) ends SignalR's. The client then reconnects by
    /// itself with the same policy (<see cref="ReconnectByClientAsync"/>).
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

            if (run.ReconnectingByClient && !run.StopRequested)
            {
                // One attempt of that reconnect closed (refused, say): the attempt's loop decides what follows.
                run.Attempt?.TrySetException(RefusalOf(exception));
                return;
            }

            var code = GatewayErrorText.CodeOf(exception?.Message);
            var comeBack = code is null
                ? !run.Reconnecting && run.Notice is { Reconnect: true }
                : GatewayCloseCodes.ReconnectAdvised(code) && run.Notice is not { Reconnect: false };
            if (comeBack && run.Sessions > 0 && !run.StopRequested && _options.ReconnectPolicy is { } policy)
            {
                StopHeartbeats(run);
                run.ReconnectingByClient = true;
                var announce = _state != GatewayConnectionState.Reconnecting;
                _state = GatewayConnectionState.Reconnecting;
                var notice = run.Notice;
                var cause = exception ?? new HubException($"{notice?.Code}: {notice?.Reason}");
                _ = Task.Run(() => ReconnectByClientAsync(run, policy, cause));
                if (announce)
                {
                    LogReconnecting(exception, ClientId);
                    Raise(Reconnecting, exception);
                }

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

        var message = code == GatewayCloseCodes.ReconnectFailed
            ? $"Reconnecting gave up: {exception?.Message}"
            : GatewayErrorText.Of(exception?.Message ?? code ?? "");
        reason = code is null
            ? ReasonFor(run, exception, _sessionId)
            : new GatewayCloseReason(code, message, GatewayCloseCodes.ReconnectAdvised(code), exception, _sessionId);
        return true;
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

    /// <summary>Session events again after a reconnect; true when that failed and the client reconnects once more.</summary>
    private async Task<bool> ResubscribeAsync(Run run)
    {
        try
        {
            await run.Connection.InvokeCoreAsync(nameof(IGatewayHub.SubscribeSessions), [], _lifetime.Token);
            return false;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return ReconnectAfterFailedResubscribe(run, exception);
        }
    }

    /// <summary>
    /// A subscription that failed to come back on a connection still up would stay silent there while the application
    /// takes it for live. A failure that retrying can mend (internal, database_busy, rate_limited, a timeout) ends the
    /// connection, and the client reconnects with its policy and subscribes again from the same position; a refusal that
    /// retrying cannot change (forbidden, invalid_argument, not_found) is logged as an error. True when reconnecting.
    /// </summary>
    private bool ReconnectAfterFailedResubscribe(Run run, Exception exception)
    {
        var code = GatewayErrorText.CodeOf(exception.Message);
        if (code is HubErrorCodes.Forbidden or HubErrorCodes.InvalidArgument or HubErrorCodes.NotFound)
        {
            LogResubscribeRefused(exception, code);
            return false;
        }

        lock (_gate)
        {
            if (run != _run || run.Ended || run.StopRequested || run.Connection.State != HubConnectionState.Connected)
            {
                // Gone again already: the reconnect under way subscribes again.
                LogResubscribeFailed(exception);
                return false;
            }

            // Read by OnClosed once the stop below closes the connection: come back, as after the gateway's own notice.
            run.Notice = new ConnectionClosing(GatewayCloseCodes.ResubscribeFailed, GatewayErrorText.Of(exception.Message), Reconnect: true);
        }

        LogResubscribeFailedReconnecting(exception, code);
        _ = Task.Run(() => StopQuietlyAsync(run.Connection));
        return true;
    }
}
