using Gateway.Contracts;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Server.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Server.Api;

/// <summary>Admin REST over sessions: list, get, disconnect. Errors are RFC 9457 problem details.</summary>
internal static class SessionsApi
{
    public const int MaxPageSize = 500;

    public static RouteGroupBuilder MapSessionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/sessions")
            .WithTags("Sessions")
            .RequireAuthorization(policy => policy.RequireRole(GatewayRoles.Admin));
        group.MapGet("/", ListSessions).WithName(nameof(ListSessions));
        group.MapGet("/{id}", GetSession).WithName(nameof(GetSession));
        group.MapDelete("/{id}", DisconnectSession).WithName(nameof(DisconnectSession));
        return group;
    }

    /// <summary>
    /// <c>GET /api/sessions?active=&amp;user=&amp;client=&amp;connectionType=&amp;staleSeconds=&amp;sort=created|lastHeartbeat&amp;order=asc|desc&amp;page=&amp;pageSize=</c>
    /// </summary>
    public static async Task<Results<Ok<SessionPage>, ValidationProblem>> ListSessions(
        HttpRequest request, SessionAdministration administration, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var query = ParseQuery(request.Query, errors);
        if (query is null)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid session filter");
        }

        return TypedResults.Ok(await administration.ListAsync(query, cancellationToken));
    }

    public static async Task<Results<Ok<SessionInfo>, ProblemHttpResult>> GetSession(
        string id, SessionAdministration administration, CancellationToken cancellationToken) =>
        await administration.GetAsync(id, cancellationToken) is { } session
            ? TypedResults.Ok(session)
            : NotFound(id);

    /// <summary><c>DELETE /api/sessions/{id}?reason=</c>: closes the live connection with the reason and marks the row inactive.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> DisconnectSession(
        string id, string? reason, SessionAdministration administration, CancellationToken cancellationToken)
    {
        var result = await administration.DisconnectAsync(id, reason ?? "disconnected by an administrator", cancellationToken);
        return result switch
        {
            DisconnectResult.NotFound => NotFound(id),
            DisconnectResult.InvalidReason => TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["reason"] = [SessionAdministration.ReasonRule] }, title: "Invalid reason"),
            DisconnectResult.AlreadyInactive => TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict, title: "Session already closed", detail: $"Session {id} is not active."),
            _ => TypedResults.NoContent(),
        };
    }

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Session not found", detail: $"No session has id '{id}'.");

    private static SessionQuery? ParseQuery(IQueryCollection query, Dictionary<string, string[]> errors)
    {
        string[] known = ["active", "user", "client", "connectionType", "staleSeconds", "sort", "order", "page", "pageSize"];
        foreach (var key in query.Keys.Where(k => !known.Contains(k, StringComparer.Ordinal)))
        {
            errors[key] = [$"unknown filter; known: {string.Join(", ", known)}"];
        }

        bool? active = null;
        if (Value(query, "active") is { } activeText)
        {
            active = bool.TryParse(activeText, out var parsed) ? parsed : Error<bool?>(errors, "active", "must be true or false");
        }

        SessionConnectionType? connectionType = null;
        if (Value(query, "connectionType") is { } typeText)
        {
            var allowed = StoreEnum.StoreValues<SessionConnectionType>();
            connectionType = allowed.Contains(typeText, StringComparer.Ordinal)
                ? StoreEnum.FromStoreValue<SessionConnectionType>(typeText)
                : Error<SessionConnectionType?>(errors, "connectionType", $"must be one of {string.Join(", ", allowed)}");
        }

        var staleSeconds = Integer(query, "staleSeconds", null, 0, int.MaxValue, errors);
        var page = Integer(query, "page", 1, 1, Orchestration.Paging.MaxPage, errors) ?? 1;
        var pageSize = Integer(query, "pageSize", 50, 1, MaxPageSize, errors) ?? 50;

        var sort = Value(query, "sort") switch
        {
            null or "created" => SessionSort.Created,
            "lastHeartbeat" => SessionSort.LastHeartbeat,
            _ => Error<SessionSort>(errors, "sort", "must be created or lastHeartbeat"),
        };
        var descending = Value(query, "order") switch
        {
            null or "desc" => true,
            "asc" => false,
            _ => Error<bool>(errors, "order", "must be asc or desc"),
        };

        if (errors.Count > 0)
        {
            return null;
        }

        return new SessionQuery(active, Value(query, "user"), Value(query, "client"), connectionType, staleSeconds, sort, descending, page, pageSize);
    }

    private static string? Value(IQueryCollection query, string key) =>
        query.TryGetValue(key, out var values) && !string.IsNullOrEmpty(values.ToString()) ? values.ToString() : null;

    private static int? Integer(IQueryCollection query, string key, int? fallback, int min, int max, Dictionary<string, string[]> errors)
    {
        if (Value(query, key) is not { } text)
        {
            return fallback;
        }

        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : Error<int?>(errors, key, $"must be an integer from {min} to {max}");
    }

    private static T Error<T>(Dictionary<string, string[]> errors, string key, string message)
    {
        errors[key] = [message];
        return default!;
    }
}
