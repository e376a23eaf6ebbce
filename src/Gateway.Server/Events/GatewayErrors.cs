using Gateway.Contracts;

namespace Gateway.Server.Events;

/// <summary>
/// A refusal the caller caused: mapped to RFC 9457 problem details over REST and to a coded hub error over the hub.
/// Nothing was changed when one is thrown, but for <see cref="CommitOutcomeUnknownException"/>, which says so.
/// </summary>
internal abstract class GatewayRequestException(string code, int statusCode, string message) : Exception(message)
{
    /// <summary>A <see cref="HubErrorCodes"/> value.</summary>
    public string Code { get; } = code;

    public int StatusCode { get; } = statusCode;
}

internal sealed class NotFoundException(string what, string id)
    : GatewayRequestException(HubErrorCodes.NotFound, StatusCodes.Status404NotFound, $"no {what} has id '{id}'");

/// <summary>
/// The connection to PostgreSQL was lost during the commit, and the database could not be asked in time whether the
/// transaction committed: 503 with its own code (never <c>storage_unavailable</c>, which promises nothing was written).
/// </summary>
internal sealed class CommitOutcomeUnknownException(long transactionId, int waitedSeconds)
    : GatewayRequestException(
        HubErrorCodes.CommitOutcomeUnknown,
        StatusCodes.Status503ServiceUnavailable,
        $"the connection to the database was lost while the change was being committed, and the database could not be asked within {waitedSeconds} s whether it was (transaction {transactionId}): the change may have been applied. Read it back before sending it again");

/// <summary>An illegal state transition or a lost race: 409.</summary>
internal sealed class ConflictException(string message)
    : GatewayRequestException(HubErrorCodes.Conflict, StatusCodes.Status409Conflict, message);

/// <summary>Bad input; <see cref="Field"/> is the JSON path of the offending value.</summary>
internal sealed class InvalidInputException(string field, string message)
    : GatewayRequestException(HubErrorCodes.InvalidArgument, StatusCodes.Status400BadRequest, $"{field}: {message}")
{
    public string Field { get; } = field;

    public string Problem { get; } = message;
}

/// <summary>The caller's role does not allow the change: 403.</summary>
internal sealed class ForbiddenException(string message)
    : GatewayRequestException(HubErrorCodes.Forbidden, StatusCodes.Status403Forbidden, message);
