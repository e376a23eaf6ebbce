using System.Diagnostics.CodeAnalysis;
using MessagePack;

namespace Gateway.Contracts;

/// <summary>
/// Event names of configuration changes that <see cref="EventTypes"/> does not have yet (config.changed is
/// <see cref="EventTypes.ConfigChanged"/>). To be moved into <see cref="EventTypes"/>.
/// </summary>
public static class ConfigurationEventTypes
{
    /// <summary>A setting was deleted: key, value_type, is_secret, timestamp. Priority normal.</summary>
    public const string Deleted = EventTypes.ConfigDeleted;

    /// <summary>An admin read a secret's value: key, revealed_by, timestamp (never the value). Priority high.</summary>
    public const string SecretRevealed = EventTypes.ConfigSecretRevealed;
}

/// <summary>configurations.value_type, as stored and as sent: how the text value is read.</summary>
[SuppressMessage(
    "Naming",
    "CA1720:Identifier contains type name",
    Justification = "The names are the stored values the schema's CHECK lists (string, integer, float, boolean, json).")]
public static class ConfigurationValueTypes
{
    /// <summary>Any text up to 64 KiB (UTF-8).</summary>
    public const string String = "string";

    /// <summary>A 64-bit signed integer in invariant culture: optional sign, digits (<c>-42</c>).</summary>
    public const string Integer = "integer";

    /// <summary>A finite double in invariant culture (<c>0.25</c>, <c>-1e-3</c>); NaN and infinities are refused.</summary>
    public const string Float = "float";

    /// <summary>Exactly <c>true</c> or <c>false</c>.</summary>
    public const string Boolean = "boolean";

    /// <summary>Well-formed JSON text (RFC 8259: no comments, no trailing commas), up to 256 KiB.</summary>
    public const string Json = "json";

    /// <summary>What a secret's value reads as in every list, get and change answer.</summary>
    public const string MaskedValue = "********";
}

/// <summary>
/// A setting over the hub. A secret's <see cref="Value"/> is always <see cref="ConfigurationValueTypes.MaskedValue"/>
/// with <see cref="Masked"/> true; its value is read only with <c>RevealConfigurationSecret</c>.
/// </summary>
[MessagePackObject]
public sealed record ConfigurationInfo(
    [property: Key("key")] string Key,
    [property: Key("value")] string Value,
    [property: Key("valueType")] string ValueType,
    [property: Key("description")] string? Description,
    [property: Key("isSecret")] bool IsSecret,
    [property: Key("masked")] bool Masked,
    [property: Key("createdAt")] DateTime CreatedAt,
    [property: Key("updatedAt")] DateTime UpdatedAt)
{
    /// <summary>Never the value (SignalR logs invocation results and arguments with ToString at debug level).</summary>
    public override string ToString() => $"ConfigurationInfo {{ Key = {Key}, ValueType = {ValueType}, IsSecret = {IsSecret} }}";
}

/// <summary>The argument of <c>SetConfiguration</c> (an upsert).</summary>
/// <param name="Value">The value as text, checked against <paramref name="ValueType"/>.</param>
/// <param name="ValueType">One of <see cref="ConfigurationValueTypes"/>.</param>
/// <param name="Description">Null keeps the current description (none for a new key); empty clears it.</param>
/// <param name="IsSecret">Null keeps the current flag (false for a new key), so updating a secret's value without it keeps it secret.</param>
[MessagePackObject]
public sealed record SetConfigurationCommand(
    [property: Key("value")] string Value,
    [property: Key("valueType")] string ValueType,
    [property: Key("description")] string? Description = null,
    [property: Key("isSecret")] bool? IsSecret = null)
{
    /// <summary>Never the value: SignalR logs invocation arguments with ToString at debug level.</summary>
    public override string ToString() => $"SetConfigurationCommand {{ ValueType = {ValueType}, IsSecret = {IsSecret} }}";
}

/// <summary>A page of settings, ordered by key.</summary>
[MessagePackObject]
public sealed record ConfigurationPageInfo(
    [property: Key("items")] IReadOnlyList<ConfigurationInfo> Items,
    [property: Key("page")] int Page,
    [property: Key("pageSize")] int PageSize,
    [property: Key("total")] int Total);

/// <summary>The answer to <c>RevealConfigurationSecret</c>: the value in clear. The reveal is logged as <see cref="ConfigurationEventTypes.SecretRevealed"/>.</summary>
[MessagePackObject]
public sealed record RevealedConfiguration(
    [property: Key("key")] string Key,
    [property: Key("valueType")] string ValueType,
    [property: Key("value")] string Value)
{
    /// <summary>Never the value.</summary>
    public override string ToString() => $"RevealedConfiguration {{ Key = {Key}, ValueType = {ValueType} }}";
}

/// <summary>
/// Hub methods for configurations, admin role only (others get <see cref="HubErrorCodes.Forbidden"/>). Errors carry
/// <see cref="HubErrorCodes"/>: <c>invalid_argument</c> names the field (<c>$.value</c>), <c>not_found</c> an unknown key.
/// The wire contract: the server's methods also take the configuration service, injected by SignalR, not sent.
/// </summary>
public interface IConfigurationHub
{
    /// <summary>Creates or replaces <paramref name="key"/> (1 to 200 of <c>A-Z a-z 0-9 . _ : -</c>); emits config.changed.</summary>
    Task<ConfigurationInfo> SetConfiguration(string key, SetConfigurationCommand command);

    Task<ConfigurationInfo> GetConfiguration(string key);

    /// <param name="valueType">Only this type; null for all.</param>
    /// <param name="prefix">Only keys starting with this text (case-sensitive); null for all.</param>
    /// <param name="page">From 1.</param>
    /// <param name="pageSize">From 1 to 500.</param>
    Task<ConfigurationPageInfo> ListConfigurations(string? valueType, string? prefix, int page, int pageSize);

    /// <summary>Deletes the key; emits config.deleted. not_found when there is none.</summary>
    Task<bool> DeleteConfiguration(string key);

    /// <summary>The value in clear (secret or not); a secret's reveal is logged as config.secret_revealed, in the same transaction.</summary>
    Task<RevealedConfiguration> RevealConfigurationSecret(string key);
}
