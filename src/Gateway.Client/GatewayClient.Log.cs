using Microsoft.Extensions.Logging;

namespace Gateway.Client;

public sealed partial class GatewayClient
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Gateway session {SessionId} established for client {ClientId} at {HubUrl}")]
    private partial void LogStarted(string sessionId, string clientId, Uri hubUrl);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Connection of client {ClientId} lost; reconnecting")]
    private partial void LogReconnecting(Exception? exception, string clientId);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Debug, Message = "Transport of client {ClientId} reconnected; waiting for connection.established")]
    private partial void LogTransportReconnected(string clientId);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Gateway session {SessionId} established after a reconnect of client {ClientId}")]
    private partial void LogReconnected(string sessionId, string clientId);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "The gateway is closing the connection: {Code} (reconnect: {Reconnect})")]
    private partial void LogClosing(string code, bool reconnect);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Gateway client closed: {Code}, last session {SessionId}")]
    private partial void LogClosed(string code, string? sessionId);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Debug, Message = "Heartbeat failed; the connection's own checks decide whether to reconnect")]
    private partial void LogHeartbeatFailed(Exception exception);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Error, Message = "An event handler of the gateway client failed")]
    private partial void LogHandlerFailed(Exception exception);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Warning, Message = "Stopping the gateway connection failed")]
    private partial void LogStopFailed(Exception exception);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "Subscribing again after a reconnect failed; the connection is already gone, the next reconnect tries again")]
    private partial void LogResubscribeFailed(Exception exception);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Warning, Message = "Subscribing again after a reconnect failed ({Code}); reconnecting to try again from the same position")]
    private partial void LogResubscribeFailedReconnecting(Exception exception, string? code);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Error, Message = "The gateway refused to subscribe again after a reconnect ({Code}); that subscription receives nothing until the client subscribes it anew")]
    private partial void LogResubscribeRefused(Exception exception, string code);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Information, Message = "Reconnect attempt {Attempt} failed")]
    private partial void LogReconnectAttemptFailed(Exception exception, long attempt);
}
