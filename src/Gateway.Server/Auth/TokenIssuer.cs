using System.Security.Claims;
using Gateway.Contracts;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Server.Auth;

/// <summary>
/// Mints the gateway's own bearer tokens: HS256 with the <see cref="SigningKeyStore"/> key, claims <c>sub</c>,
/// one <c>role</c> per role, <c>iss</c>, <c>aud</c>, <c>exp</c>, <c>nbf</c>, <c>iat</c> and a random <c>jti</c>.
/// </summary>
public sealed class TokenIssuer
{
    /// <summary>The longest lifetime a token may have.</summary>
    public static readonly TimeSpan MaximumLifetime = TimeSpan.FromDays(365);

    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    private readonly AuthOptions _options;
    private readonly SigningKeyStore _keys;
    private readonly TimeProvider _time;

    public TokenIssuer(AuthOptions options, SigningKeyStore keys, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _keys = keys;
        _time = timeProvider;
    }

    /// <summary>A signed compact JWT for <paramref name="userId"/>, valid from now for <paramref name="lifetime"/>.</summary>
    /// <exception cref="ArgumentException">See <see cref="Check"/>; the message is the reason.</exception>
    /// <exception cref="InvalidOperationException">Auth:Authority is set: tokens come from that authority.</exception>
    /// <exception cref="SigningKeyException">The signing key cannot be had.</exception>
    public string Create(string userId, IReadOnlyCollection<string> roles, TimeSpan lifetime)
    {
        if (Check(userId, roles, lifetime) is { } problem)
        {
            throw new ArgumentException(problem);
        }

        if (_options.UsesExternalAuthority)
        {
            throw new InvalidOperationException(
                $"Auth:Authority is set ({_options.Authority}): the gateway accepts that authority's tokens and mints none of its own; "
                + "get a token from the authority, or clear Auth:Authority to use the gateway's own tokens");
        }

        var claims = new List<Claim> { new(GatewayClaimTypes.UserId, userId) };
        claims.AddRange(roles.Distinct(StringComparer.Ordinal).Select(role => new Claim(GatewayClaimTypes.Role, role)));
        claims.Add(new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")));

        var now = _time.GetUtcNow().UtcDateTime;
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity(claims),
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(_keys.Key, SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>
    /// Why <see cref="Create"/> would refuse these arguments, or null: the user id is empty or has control
    /// characters, no role is given, a role is not one of <see cref="GatewayRoles.All"/> (exact, lower case), or the
    /// lifetime is not positive or longer than <see cref="MaximumLifetime"/>.
    /// </summary>
    public static string? Check(string? userId, IReadOnlyCollection<string>? roles, TimeSpan lifetime)
    {
        if (string.IsNullOrWhiteSpace(userId) || userId.Any(char.IsControl))
        {
            return "the user id must be a non-empty name without control characters, e.g. alice";
        }

        if (roles is null || roles.Count == 0)
        {
            return $"give at least one role: {string.Join(", ", GatewayRoles.All)}";
        }

        if (roles.FirstOrDefault(r => !GatewayRoles.All.Contains(r, StringComparer.Ordinal)) is { } unknown)
        {
            return $"unknown role '{unknown}'; the roles are {string.Join(", ", GatewayRoles.All)}";
        }

        if (lifetime <= TimeSpan.Zero || lifetime > MaximumLifetime)
        {
            return $"the lifetime must be positive and at most {MaximumLifetime.TotalDays:0} days";
        }

        return null;
    }
}
