using System.Globalization;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Gateway.Data.Conversion;

/// <summary>
/// Maps UTC <see cref="DateTime"/> properties to the schema's TEXT timestamps.
/// <para>
/// Writes one form, <c>yyyy-MM-dd HH:mm:ss.FFFFFFF</c>: the layout of SQLite's <c>datetime('now')</c>, with up to
/// seven fraction digits, trailing zeros (and the dot, on whole seconds) trimmed. A whole second therefore reads
/// exactly like a value the column defaults and triggers wrote, and text order is time order.
/// </para>
/// <para>
/// Reads that form and the Rust/chrono RFC 3339 forms (<c>2025-01-15T10:00:00+00:00</c>, <c>…Z</c>, any offset,
/// up to nine fraction digits, of which the eighth and ninth are dropped). Values without an offset are UTC.
/// Always returns <see cref="DateTimeKind.Utc"/>.
/// </para>
/// </summary>
public sealed class UtcDateTimeConverter : ValueConverter<DateTime, string>
{
    /// <summary>The layout written; the same as <c>datetime('now')</c> plus an optional fraction.</summary>
    public const string StorageFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    private static readonly string[] ReadFormats =
    [
        "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm",
        "yyyy-MM-dd'T'HH:mm",
        "yyyy-MM-dd",
    ];

    public UtcDateTimeConverter()
        : base(value => Format(value), text => Parse(text))
    {
    }

    /// <summary>
    /// The stored text of <paramref name="value"/>. A <see cref="DateTimeKind.Local"/> value is converted to UTC;
    /// an <see cref="DateTimeKind.Unspecified"/> one is taken to be UTC already.
    /// </summary>
    public static string Format(DateTime value)
    {
        var utc = value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value;
        return utc.ToString(StorageFormat, CultureInfo.InvariantCulture);
    }

    /// <summary>Reads any accepted form (see the type's remarks) as a UTC <see cref="DateTime"/>.</summary>
    /// <exception cref="FormatException">The text is not a timestamp in an accepted form.</exception>
    public static DateTime Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normalized = TrimExtraFractionDigits(text.Trim());
        if (DateTime.TryParseExact(
                normalized,
                ReadFormats,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out var value))
        {
            return DateTime.SpecifyKind(value, DateTimeKind.Utc);
        }

        throw new FormatException($"'{text}' is not a timestamp in the form '{StorageFormat}' or RFC 3339.");
    }

    /// <summary>.NET parses at most seven fraction digits; chrono may write nine (nanoseconds).</summary>
    private static string TrimExtraFractionDigits(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return text;
        }

        var end = dot + 1;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        const int MaxDigits = 7;
        return end - dot - 1 <= MaxDigits ? text : string.Concat(text.AsSpan(0, dot + 1 + MaxDigits), text.AsSpan(end));
    }
}
