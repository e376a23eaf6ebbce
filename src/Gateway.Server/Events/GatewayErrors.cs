using Gateway.Contracts;

namespace Gateway.Server.Events;

/// <summary>
/// A refusal the caller caused: mapped to RFC 9457 problem details over REST and to a coded hub error over the hub.
/// Nothing was changed when one is thrown.
/// </summary>
internal abstract class GatewayRequestException(string code, int statusCode, string message) : Exception(message)
{
    /// <summary>A <see cref="HubErrorCodes"/> value.</summary>
    public string Code { get; } = code;

    public int StatusCode { get; } = statusCode;
}

internal sealed class NotFoundException(string what, string id)
    : GatewayRequestException(HubErrorCodes.NotFound, StatusCodes.Status404NotFound, $"no {what} has id '{id}'");

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
