using Gateway.Contracts;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;

namespace Gateway.Server.Orchestration.Configurations;

/// <summary>
/// A setting as the API shows it. A secret's <see cref="Value"/> is <see cref="ConfigurationValueTypes.MaskedValue"/>
/// and <see cref="Masked"/> is true; the value itself is read with reveal only.
/// </summary>
public sealed record ConfigurationView(
    string Key,
    string Value,
    string ValueType,
    string? Description,
    bool IsSecret,
    bool Masked,
    DateTime CreatedAt,
    DateTime UpdatedAt)
{
    internal static ConfigurationView From(ConfigurationEntry entry) => new(
        entry.Key,
        entry.IsSecret ? ConfigurationValueTypes.MaskedValue : entry.Value,
        StoreEnum.ToStoreValue(entry.ValueType),
        entry.Description,
        entry.IsSecret,
        entry.IsSecret,
        entry.CreatedAt,
        entry.UpdatedAt);

    /// <summary>Never the value.</summary>
    public override string ToString() => $"ConfigurationView {{ Key = {Key}, ValueType = {ValueType}, IsSecret = {IsSecret} }}";
}

/// <summary>The body of <c>PUT /api/configurations/{key}</c>.</summary>
/// <param name="Value">The value as a JSON string, read according to <paramref name="ValueType"/> (<c>"42"</c>, <c>"{\"a\":1}"</c>).</param>
/// <param name="ValueType">string, integer, float, boolean or json.</param>
/// <param name="Description">Null or absent keeps the current description (none for a new key); empty clears it.</param>
/// <param name="IsSecret">
/// Null or absent keeps the current flag (false for a new key), so a value update of a secret stays secret. A secret may
/// be made non-secret and back: from then on its value is shown (or masked) accordingly. Making a setting secret does
/// not rewrite the config.changed events already logged with its earlier value in clear; give it a new value in the
/// same request when that value must stay unknown.
/// </param>
public sealed record SetConfigurationRequest(string? Value, string? ValueType, string? Description = null, bool? IsSecret = null)
{
    /// <summary>Never the value.</summary>
    public override string ToString() => $"SetConfigurationRequest {{ ValueType = {ValueType}, IsSecret = {IsSecret} }}";
}

/// <summary>What a set did: the setting as now stored (masked when secret) and whether the key is new.</summary>
internal sealed record SetConfigurationResult(ConfigurationView Configuration, bool Created);

public sealed record ConfigurationPage(IReadOnlyList<ConfigurationView> Items, int Page, int PageSize, int Total);

/// <summary>The answer of reveal: the value in clear.</summary>
public sealed record RevealedConfigurationValue(string Key, string ValueType, string Value)
{
    /// <summary>Never the value.</summary>
    public override string ToString() => $"RevealedConfigurationValue {{ Key = {Key}, ValueType = {ValueType} }}";
}

/// <summary>Hub shapes.</summary>
internal static class ConfigurationHubMapping
{
    public static ConfigurationInfo ToInfo(ConfigurationView view) => new(
        view.Key, view.Value, view.ValueType, view.Description, view.IsSecret, view.Masked, view.CreatedAt, view.UpdatedAt);

    public static ConfigurationPageInfo ToInfo(ConfigurationPage page) => new([.. page.Items.Select(ToInfo)], page.Page, page.PageSize, page.Total);

    public static RevealedConfiguration ToInfo(RevealedConfigurationValue revealed) => new(revealed.Key, revealed.ValueType, revealed.Value);

    public static SetConfigurationRequest FromCommand(SetConfigurationCommand? command) =>
        command is null
            ? throw new Events.InvalidInputException("$", "a configuration is required")
            : new(command.Value, command.ValueType, command.Description, command.IsSecret);
}
