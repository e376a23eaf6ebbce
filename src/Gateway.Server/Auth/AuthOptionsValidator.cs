using System.Text;
using Gateway.Contracts;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Auth;

/// <summary>Refuses an unusable "Auth" section at start, saying what to set and giving an example value.</summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public const int MaximumClockSkewSeconds = 300;

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = Failures(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    public static IEnumerable<string> Failures(AuthOptions options)
    {
        if (options.UsesExternalAuthority)
        {
            if (!Uri.TryCreate(options.Authority, UriKind.Absolute, out var authority)
                || !(authority.Scheme == Uri.UriSchemeHttps || (authority.Scheme == Uri.UriSchemeHttp && authority.IsLoopback)))
            {
                yield return $"Auth:Authority '{options.Authority}' is not an https URL of an OpenID Connect authority "
                    + "(plain http only on loopback); set it like https://login.example.com/realms/gateway, or leave it empty to use the gateway's own tokens";
            }
        }
        else if (options.SigningKey.Length > 0)
        {
            var bytes = Encoding.UTF8.GetByteCount(options.SigningKey);
            if (bytes < AuthOptions.MinimumSigningKeyBytes)
            {
                yield return $"Auth:SigningKey is {bytes} bytes long; HS256 needs at least {AuthOptions.MinimumSigningKeyBytes} bytes (UTF-8). "
                    + "Set a longer secret, e.g. the output of `openssl rand -base64 48`, or leave Auth:SigningKey empty to use "
                    + $"the key file {{Database:DataDirectory}}/{SigningKeyStore.KeyFileName}, created on first use";
            }
        }

        if (string.IsNullOrWhiteSpace(options.Issuer))
        {
            yield return "Auth:Issuer is empty; set the issuer the gateway's tokens carry, e.g. \"gateway\"";
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            yield return "Auth:Audience is empty; set the audience every token must carry, e.g. \"gateway\"";
        }

        if (options.ClockSkewSeconds is < 0 or > MaximumClockSkewSeconds)
        {
            yield return $"Auth:ClockSkewSeconds is {options.ClockSkewSeconds}; set a number of seconds from 0 to {MaximumClockSkewSeconds}, e.g. 30";
        }

        var unknown = options.AnonymousRoles.Where(r => !GatewayRoles.All.Contains(r, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            yield return $"Auth:AnonymousRoles has unknown roles ({string.Join(", ", unknown)}); use some of {string.Join(", ", GatewayRoles.All)}, "
                + $"e.g. Auth__AnonymousRoles__0=dashboard, or none for {string.Join(" and ", AuthOptions.DefaultAnonymousRoles)}";
        }
    }
}
