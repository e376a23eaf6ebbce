using System.Net;
using Gateway.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace Gateway.Client;

// What failures and closes mean to callers: coded exceptions and close reasons.
public sealed partial class GatewayClient
{
    private static GatewayHubException HubError(HubException exception) =>
        new(GatewayErrorText.CodeOf(exception.Message), GatewayErrorText.Of(exception.Message), exception);

    private static GatewayConnectException RefusalOf(Exception? exception)
    {
        var code = GatewayErrorText.CodeOf(exception?.Message);
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

        if (GatewayErrorText.CodeOf(exception?.Message) is { } code)
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
            return status switch
            {
                HttpStatusCode.Unauthorized => new GatewayConnectException(
                    GatewayCloseCodes.Unauthorized,
                    $"The gateway at {HubUrl} refused the access token (401 Unauthorized): it is missing, malformed, expired or signed with another key.",
                    exception,
                    status),
                HttpStatusCode.TooManyRequests => new GatewayConnectException(
                    HubErrorCodes.RateLimited,
                    $"The gateway at {HubUrl} refused the connection attempt (429 Too Many Requests): too many from this address; try again later.",
                    exception,
                    status),
                _ => new GatewayConnectException(
                    status == HttpStatusCode.Forbidden ? HubErrorCodes.Forbidden : GatewayCloseCodes.TransportError,
                    $"The gateway at {HubUrl} answered {(int)status} {status}.",
                    exception,
                    status),
            };
        }

        if (exception is HubException && GatewayErrorText.CodeOf(exception.Message) is not null)
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
}
