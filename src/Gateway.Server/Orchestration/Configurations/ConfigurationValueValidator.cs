using System.Globalization;
using System.Text;
using System.Text.Json;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Server.Events;

namespace Gateway.Server.Orchestration.Configurations;

/// <summary>
/// The rules of a setting's key, type and value. Refusals name the field and the rule, never the value: the value may
/// be a secret, and refusal messages reach hub errors, problem details and possibly logs.
/// </summary>
internal static class ConfigurationValueValidator
{
    public const string ValueField = "$.value";
    public const string ValueTypeField = "$.valueType";
    public const int MaxKeyLength = 200;
    public const int MaxStringBytes = 64 * 1024;
    public const int MaxJsonBytes = JsonInput.MaxJsonBytes;

    private const NumberStyles IntegerStyle = NumberStyles.AllowLeadingSign;
    private const NumberStyles FloatStyle = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    /// <summary>1 to 200 characters of <c>A-Z a-z 0-9 . _ : -</c>. Checked when a key is written; reads take any key the table holds.</summary>
    public static string Key(string? key, string field = "key")
    {
        if (string.IsNullOrEmpty(key))
        {
            throw new InvalidInputException(field, "is required");
        }

        if (key.Length > MaxKeyLength)
        {
            throw new InvalidInputException(field, $"must be at most {MaxKeyLength} characters");
        }

        foreach (var c in key)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or ':' or '-'))
            {
                throw new InvalidInputException(field, "may hold only the characters A-Z a-z 0-9 . _ : - (e.g. agents.max_parallel)");
            }
        }

        return key;
    }

    /// <summary>One of string, integer, float, boolean, json (exact, lower case).</summary>
    public static ConfigurationValueType Type(string? text, string field = ValueTypeField)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw new InvalidInputException(field, $"is required: one of {string.Join(", ", StoreEnum.StoreValues<ConfigurationValueType>())}");
        }

        return StoreEnum.StoreValues<ConfigurationValueType>().Contains(text, StringComparer.Ordinal)
            ? StoreEnum.FromStoreValue<ConfigurationValueType>(text)
            : throw new InvalidInputException(field, $"must be one of {string.Join(", ", StoreEnum.StoreValues<ConfigurationValueType>())}");
    }

    /// <summary>Refuses (400 naming <paramref name="field"/> and the type) a value that <paramref name="type"/> cannot read.</summary>
    public static string Value(string? value, ConfigurationValueType type, string field = ValueField)
    {
        if (value is null)
        {
            throw new InvalidInputException(field, "is required (the value as text, e.g. \"42\" for an integer)");
        }

        JsonInput.FreeText(value, field);

        switch (type)
        {
            case ConfigurationValueType.String:
                if (Encoding.UTF8.GetByteCount(value) > MaxStringBytes)
                {
                    throw new InvalidInputException(field, $"is longer than {MaxStringBytes} bytes (UTF-8), the limit of value_type string");
                }

                break;
            case ConfigurationValueType.Integer:
                if (!long.TryParse(value, IntegerStyle, CultureInfo.InvariantCulture, out _))
                {
                    throw new InvalidInputException(field, "is not a valid value_type integer: a 64-bit integer in invariant culture, e.g. -42");
                }

                break;
            case ConfigurationValueType.Float:
                if (!double.TryParse(value, FloatStyle, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number))
                {
                    throw new InvalidInputException(field, "is not a valid value_type float: a finite number in invariant culture, e.g. 0.25 or 1e-3");
                }

                break;
            case ConfigurationValueType.Boolean:
                if (value is not ("true" or "false"))
                {
                    throw new InvalidInputException(field, "is not a valid value_type boolean: exactly true or false");
                }

                break;
            case ConfigurationValueType.Json:
                Json(value, field);
                break;
            default:
                throw new InvalidInputException(ValueTypeField, $"must be one of {string.Join(", ", StoreEnum.StoreValues<ConfigurationValueType>())}");
        }

        return value;
    }

    private static void Json(string value, string field)
    {
        if (Encoding.UTF8.GetByteCount(value) > MaxJsonBytes)
        {
            throw new InvalidInputException(field, $"is larger than {MaxJsonBytes} bytes (UTF-8), the limit of value_type json");
        }

        try
        {
            using var document = JsonDocument.Parse(value);
            JsonInput.Text(document.RootElement, field, objectOnly: false);
        }
        catch (InvalidInputException)
        {
            // Not the walk's own message: it names property names of what may be a secret.
            throw new InvalidInputException(
                field, $"is not storable JSON for value_type json: it holds a duplicate property name, a lone surrogate or a NUL character, or nests deeper than {JsonInput.MaxDepth} levels");
        }
        catch (JsonException exception)
        {
            // The position only: the parser's own message quotes the offending character of what may be a secret.
            throw new InvalidInputException(
                field,
                $"is not well-formed JSON for value_type json (line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1})");
        }
    }
}
