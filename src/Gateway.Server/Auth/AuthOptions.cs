using Gateway.Contracts;

namespace Gateway.Server.Auth;

/// <summary>
/// How the gateway authenticates its callers: bearer JWTs signed with the gateway's own key (HS256, minted by
/// <c>Gateway.Server token create</c>), or tokens from an external OpenID Connect authority. Bound from the
/// "Auth" section and validated at start (<see cref="AuthOptionsValidator"/>).
/// </summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";

    /// <summary>A configured <see cref="SigningKey"/> shorter than this (in UTF-8 bytes) is refused: HS256 needs 256 bits.</summary>
    public const int MinimumSigningKeyBytes = 32;

    /// <summary>
    /// The HS256 secret, used as its UTF-8 bytes. Empty (the default): the key file
    /// <c>{Database:DataDirectory}/jwt-signing.key</c>, created on first use (see <see cref="SigningKeyStore"/>).
    /// Ignored when <see cref="Authority"/> is set.
    /// </summary>
    public string SigningKey { get; set; } = string.Empty;

    /// <summary>The <c>iss</c> of the tokens the gateway mints and accepts. Ignored when <see cref="Authority"/> is set (its metadata names the issuer).</summary>
    public string Issuer { get; set; } = "gateway";

    /// <summary>The <c>aud</c> every accepted token must carry, the gateway's own or the authority's.</summary>
    public string Audience { get; set; } = "gateway";

    /// <summary>
    /// An external OpenID Connect authority (e.g. <c>https://login.example.com/realms/gateway</c>). When set, tokens are
    /// validated with the keys from its metadata instead of the local key, and <c>token create</c> refuses to mint.
    /// Its tokens must carry the gateway's roles in <c>role</c> claims. Empty: the gateway's own tokens.
    /// </summary>
    public string Authority { get; set; } = string.Empty;

    /// <summary>
    /// Local development only: a request without a token is treated as user <c>anonymous</c> with
    /// <see cref="AnonymousRoles"/> (a request with a bad token is still refused). Logged as a warning at start.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// The roles of the anonymous user when <see cref="AllowAnonymous"/> is on. Empty (the default) means
    /// <see cref="DefaultAnonymousRoles"/>: a configured list replaces it (the configuration binder would append to a
    /// non-empty default, hence the empty one). <c>admin</c> (which reveals secrets and closes sessions) only when listed.
    /// </summary>
    public string[] AnonymousRoles { get; set; } = [];

    /// <summary>dashboard and agent: enough to watch and drive tasks locally, never to reveal a secret.</summary>
    public static IReadOnlyList<string> DefaultAnonymousRoles { get; } = [GatewayRoles.Dashboard, GatewayRoles.Agent];

    /// <summary>Tolerance for the clocks of token issuer and gateway when checking <c>exp</c> and <c>nbf</c>, in seconds.</summary>
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>Whether tokens come from <see cref="Authority"/> rather than the local key.</summary>
    public bool UsesExternalAuthority => !string.IsNullOrWhiteSpace(Authority);

    /// <summary><see cref="AnonymousRoles"/>, or <see cref="DefaultAnonymousRoles"/> when none is configured.</summary>
    public IReadOnlyList<string> EffectiveAnonymousRoles => AnonymousRoles.Length == 0 ? DefaultAnonymousRoles : AnonymousRoles;
}
