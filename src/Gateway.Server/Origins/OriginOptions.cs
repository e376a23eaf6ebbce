using Microsoft.Extensions.Options;

namespace Gateway.Server.Origins;

/// <summary>
/// The web origins besides the gateway's own whose pages may use the gateway from a browser. Bound from the "Cors"
/// section and validated at start. Empty (the default): only pages the gateway serves itself (the dashboard).
/// </summary>
public sealed class OriginOptions
{
    public const string SectionName = "Cors";

    /// <summary>Origins as browsers send them: scheme, host and port, e.g. <c>https://ops.example.com</c> or <c>http://localhost:5173</c>.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>Each configured origin as <c>scheme://host[:port]</c>, lower case, without a default port (the form browsers send).</summary>
    public IReadOnlySet<string> Normalized =>
        AllowedOrigins.Select(o => TryNormalize(o, out var normalized) ? normalized : o).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>An http(s) origin without path, query or fragment, in the form browsers send; false for anything else.</summary>
    public static bool TryNormalize(string? origin, out string normalized)
    {
        normalized = string.Empty;
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            return false;
        }

        normalized = uri.GetLeftPart(UriPartial.Authority);
        return true;
    }
}

internal sealed class OriginOptionsValidator : IValidateOptions<OriginOptions>
{
    public ValidateOptionsResult Validate(string? name, OriginOptions options)
    {
        var bad = options.AllowedOrigins.Where(o => !OriginOptions.TryNormalize(o, out _)).ToList();
        return bad.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Cors:AllowedOrigins has entries that are not web origins ({string.Join(", ", bad.Select(b => $"'{b}'"))}); list each origin as "
                + "scheme://host[:port] without a path, e.g. Cors__AllowedOrigins__0=https://ops.example.com (no wildcards)");
    }
}
