using System.Text.Json;
using Gateway.Server.Events;

namespace Gateway.Server.Orchestration;

/// <summary>Checks of JSON-valued fields (config, metadata, definition, arguments): what kind, how big.</summary>
internal static class JsonInput
{
    public const int MaxJsonBytes = 256 * 1024;

    /// <summary>The field as compact JSON text; it must be an object when <paramref name="objectOnly"/>.</summary>
    public static string? Text(JsonElement? value, string field, bool objectOnly = true, bool required = false)
    {
        if (value is not { } element || element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return required ? throw new InvalidInputException(field, "is required") : null;
        }

        if (objectOnly && element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInputException(field, $"must be a JSON object, not {element.ValueKind.ToString().ToLowerInvariant()}");
        }

        var text = element.GetRawText();
        if (text.Length > MaxJsonBytes)
        {
            throw new InvalidInputException(field, $"is larger than {MaxJsonBytes} bytes");
        }

        return text;
    }

    public static string RequiredText(string? value, string field, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidInputException(field, "is required");
        }

        return value.Length > maxLength ? throw new InvalidInputException(field, $"must be at most {maxLength} characters") : value;
    }

    public static string? OptionalText(string? value, string field, int maxLength) =>
        value is { Length: > 0 } && value.Length > maxLength ? throw new InvalidInputException(field, $"must be at most {maxLength} characters") : value;
}
