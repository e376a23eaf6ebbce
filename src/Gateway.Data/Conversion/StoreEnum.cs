using System.Collections.Frozen;
using System.Text;

namespace Gateway.Data.Conversion;

/// <summary>
/// The stored text of the schema's enum columns: each member's name in snake_case
/// (<c>ServerSentEvents</c> ↔ <c>server_sent_events</c>). Use it for raw SQL on status / type columns.
/// </summary>
public static class StoreEnum
{
    /// <summary>The text stored for <paramref name="value"/>.</summary>
    public static string ToStoreValue<TEnum>(TEnum value)
        where TEnum : struct, Enum
        => Cache<TEnum>.ToText.TryGetValue(value, out var text)
            ? text
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"Not a named {typeof(TEnum).Name} value.");

    /// <summary>The member stored as <paramref name="text"/>.</summary>
    /// <exception cref="InvalidOperationException">The text names no member (the schema's CHECK and the enum disagree).</exception>
    public static TEnum FromStoreValue<TEnum>(string text)
        where TEnum : struct, Enum
        => Cache<TEnum>.FromText.TryGetValue(text, out var value)
            ? value
            : throw new InvalidOperationException($"'{text}' is not a stored {typeof(TEnum).Name} value.");

    /// <summary>Every stored text of <typeparamref name="TEnum"/>, in declaration order.</summary>
    public static IReadOnlyList<string> StoreValues<TEnum>()
        where TEnum : struct, Enum
        => Cache<TEnum>.All;

    /// <summary><c>ServerSentEvents</c> → <c>server_sent_events</c>.</summary>
    internal static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                {
                    builder.Append('_');
                }

                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static class Cache<TEnum>
        where TEnum : struct, Enum
    {
        public static readonly IReadOnlyList<string> All =
            Enum.GetValues<TEnum>().Select(value => ToSnakeCase(value.ToString())).ToArray();

        public static readonly FrozenDictionary<TEnum, string> ToText =
            Enum.GetValues<TEnum>().ToFrozenDictionary(value => value, value => ToSnakeCase(value.ToString()));

        public static readonly FrozenDictionary<string, TEnum> FromText =
            ToText.ToFrozenDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);
    }
}
