using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Server.Events;

namespace Gateway.Server.Orchestration;

/// <summary>
/// Checks of every value a client sends before anything is written: what cannot be stored and served back is refused
/// with the field named. JSON-valued fields (config, metadata, definition, arguments, result) are walked whole: a string
/// or property name that is not valid UTF-16 (an escaped lone surrogate, which System.Text.Json reads but cannot write
/// back), a duplicate property name, a NUL character (PostgreSQL's jsonb cannot hold one) or nesting deeper than
/// <see cref="MaxDepth"/> is refused. Accepted JSON
/// is stored compact, without escaping what needs none (non-ASCII characters stay UTF-8).
/// </summary>
internal static class JsonInput
{
    public const int MaxJsonBytes = 256 * 1024;

    /// <summary>
    /// How deep a stored JSON value may nest. Responses and events wrap a value in a few levels of their own, and
    /// System.Text.Json writes at most 64: a value accepted at 63 levels would fail every later read of it.
    /// </summary>
    public const int MaxDepth = 32;

    /// <summary>Escapes only what JSON requires (quotes, backslash, control characters): stored and sent text stays compact.</summary>
    public static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = Encoder, SkipValidation = false };

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

        Check(element, field, 1);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            element.WriteTo(writer);
        }

        if (buffer.WrittenCount > MaxJsonBytes)
        {
            throw new InvalidInputException(field, $"is larger than {MaxJsonBytes} bytes");
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// The id of a row being created: the caller's own when given, so that a create sent again after an unanswered
    /// first one is refused as a duplicate (409) rather than applied twice; a UUID in its 36-character form, stored in
    /// lower case. A new UUIDv7 when absent. <c>Chosen</c> says which.
    /// </summary>
    public static (string Id, bool Chosen) NewId(string? value, string field)
    {
        if (value is null)
        {
            return (Guid.CreateVersion7().ToString(), false);
        }

        return Guid.TryParseExact(value, "D", out var id)
            ? (id.ToString(), true)
            : throw new InvalidInputException(field, "must be a UUID in its 36-character form (e.g. 0192f7a4-5b1e-7c3d-9e8f-0a1b2c3d4e5f), or absent for one chosen by the gateway");
    }

    /// <summary>The refusal of a create whose id exists: the same create sent again, or an id already taken.</summary>
    public static ConflictException AlreadyExists(string what, string id) =>
        new($"a {what} with id '{id}' exists: a create sent again after the first was applied is refused; read the {what} by its id");

    /// <summary>A required name, title, type or id: not blank, at most <paramref name="maxLength"/> characters, no control characters.</summary>
    public static string RequiredText(string? value, string field, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidInputException(field, "is required");
        }

        return Name(value, field, maxLength);
    }

    /// <summary>An optional name, reason or path: like <see cref="RequiredText"/> when present.</summary>
    public static string? OptionalName(string? value, string field, int maxLength) =>
        value is null ? null : Name(value, field, maxLength);

    /// <summary>
    /// Optional free text (a description, an error, a message): line breaks and tabs allowed; NUL and text that is not
    /// valid UTF-16 refused.
    /// </summary>
    public static string? OptionalText(string? value, string field, int maxLength)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > maxLength)
        {
            throw new InvalidInputException(field, $"must be at most {maxLength} characters");
        }

        FreeText(value, field);
        return value;
    }

    /// <summary>Free text of any length (tool output): refuses NUL and text that is not valid UTF-16.</summary>
    public static void FreeText(string value, string field)
    {
        if (value.Contains('\0'))
        {
            throw new InvalidInputException(field, "must not contain NUL characters");
        }

        ValidUtf16(value, field);
    }

    private static string Name(string value, string field, int maxLength)
    {
        if (value.Length > maxLength)
        {
            throw new InvalidInputException(field, $"must be at most {maxLength} characters");
        }

        var control = value.AsSpan().IndexOfAnyInRange('\0', '\u001f');
        if (control < 0)
        {
            control = value.AsSpan().IndexOfAnyInRange('\u007f', '\u009f');
        }

        if (control >= 0)
        {
            throw new InvalidInputException(field, $"must not contain control characters (U+{(int)value[control]:X4} at character {control + 1})");
        }

        ValidUtf16(value, field);
        return value;
    }

    /// <summary>Refuses a lone surrogate: such a string cannot be encoded as UTF-8 to store or send.</summary>
    public static void ValidUtf16(string value, string field)
    {
        if (IsValidUtf16(value))
        {
            return;
        }

        throw new InvalidInputException(field, "is not valid Unicode text (a lone surrogate)");
    }

    /// <summary>Whether every surrogate in <paramref name="value"/> is one of a pair.</summary>
    public static bool IsValidUtf16(string value)
    {
        var rest = value.AsSpan();
        var first = rest.IndexOfAnyInRange('\ud800', '\udfff');
        if (first < 0)
        {
            return true;
        }

        rest = rest[first..];
        while (!rest.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(rest, out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return false;
            }

            rest = rest[consumed..];
        }

        return true;
    }

    private static void Check(JsonElement element, string path, int depth)
    {
        if (depth > MaxDepth && element.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
        {
            throw new InvalidInputException(path, $"nests deeper than {MaxDepth} levels");
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                HashSet<string>? names = null;
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        throw new InvalidInputException(path, "holds a property name that is not valid Unicode text (a lone surrogate)");
                    }

                    var child = $"{path}.{name}";
                    if (name.Contains('\0'))
                    {
                        throw new InvalidInputException(path, "holds a property name with a NUL character");
                    }

                    if (!(names ??= new(StringComparer.Ordinal)).Add(name))
                    {
                        throw new InvalidInputException(child, "is a duplicate property name");
                    }

                    Check(property.Value, child, depth + 1);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Check(item, $"{path}[{index++}]", depth + 1);
                }

                break;
            case JsonValueKind.String:
                string text;
                try
                {
                    text = element.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    throw new InvalidInputException(path, "is not valid Unicode text (a lone surrogate)");
                }

                if (text.Contains('\0'))
                {
                    throw new InvalidInputException(path, "must not contain NUL characters (\\u0000)");
                }

                break;
            default:
                break;
        }
    }
}
