using System.Text.Json;
using Gateway.Server.Events;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Gateway.Server.Api;

/// <summary>
/// Turns refusals into RFC 9457 problem details: a <see cref="GatewayRequestException"/> (400, 403, 404, 409 with a
/// stable code), a body that is not JSON or has a value of the wrong type (400 with the JSON path of the error), and
/// a body over the size limit (413), a database locked by another writer for longer than the busy timeout (503 with
/// Retry-After: nothing was written, the request can be sent again), a storage fault (a full disk, a read-only file, an
/// I/O error: 503 with a stable code and Retry-After). Anything else is left to the default handler
/// (500, details logged only).
/// </summary>
internal sealed class GatewayExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails? problem = exception switch
        {
            InvalidInputException invalid => new ValidationProblemDetails(new Dictionary<string, string[]> { [invalid.Field] = [invalid.Problem] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Invalid input",
                Detail = invalid.Message,
            },
            GatewayRequestException refusal => new ProblemDetails
            {
                Status = refusal.StatusCode,
                Title = TitleOf(refusal.StatusCode),
                Detail = refusal.Message,
            },
            BadHttpRequestException { InnerException: JsonException json } => new ValidationProblemDetails(
                new Dictionary<string, string[]> { [json.Path ?? "$"] = [FirstLine(json.Message)] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Malformed JSON",
                Detail = $"The request body is not valid JSON for this endpoint at {json.Path ?? "$"}.",
            },
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => new ProblemDetails
            {
                Status = StatusCodes.Status413PayloadTooLarge,
                Title = "Payload too large",
                Detail = "The request body is larger than the gateway accepts.",
            },
            BadHttpRequestException bad => new ProblemDetails
            {
                Status = bad.StatusCode,
                Title = "Bad request",
                Detail = FirstLine(bad.Message),
            },
            _ when Database.StorageFault.Of(exception) is not Database.StorageFaultKind.None and var kind => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Storage unavailable",
                Detail = $"{Database.StorageFault.Describe(kind)}. Retry later.",
                Extensions = { ["code"] = Database.StorageFault.RestCode(kind) },
            },
            _ when Database.DatabaseBusy.Is(exception) => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Database busy",
                Detail = "The database stayed locked by another writer for longer than Database:BusyTimeoutSeconds; nothing was written. Retry.",
            },
            _ => null,
        };
        if (problem is null)
        {
            return false;
        }

        if (exception is GatewayRequestException coded)
        {
            problem.Extensions["code"] = coded.Code;
        }

        if (problem.Status == StatusCodes.Status503ServiceUnavailable && exception is not CommitOutcomeUnknownException)
        {
            // Not for an outcome unknown: a change that may have been applied is read back, not sent again blindly.
            httpContext.Response.Headers.RetryAfter = Database.StorageFault.Of(exception) == Database.StorageFaultKind.None
                ? "1"
                : Database.StorageFault.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        httpContext.Response.StatusCode = problem.Status ?? StatusCodes.Status400BadRequest;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    private static string TitleOf(int status) => status switch
    {
        StatusCodes.Status403Forbidden => "Forbidden",
        StatusCodes.Status404NotFound => "Not found",
        StatusCodes.Status409Conflict => "Conflict",
        StatusCodes.Status503ServiceUnavailable => "Commit outcome unknown",
        _ => "Bad request",
    };

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
