using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Server.Auth;

/// <summary>
/// JwtBearer from <see cref="AuthOptions"/>: the gateway's own HS256 key, or an external authority's metadata;
/// claims kept under their JWT names (<c>sub</c> is the name, <c>role</c> the roles); and, on the SignalR paths,
/// the token from the <c>access_token</c> query parameter, where browsers put it for WebSockets and SSE (taken out of
/// the query string as the request arrives: <see cref="QueryAccessToken"/>).
/// </summary>
internal sealed class JwtBearerOptionsSetup : IConfigureNamedOptions<JwtBearerOptions>
{
    /// <summary>Requests under this path may carry their token as <c>?access_token=</c>.</summary>
    public const string HubPathPrefix = "/hubs";

    private readonly AuthOptions _auth;
    private readonly SigningKeyStore _keys;

    public JwtBearerOptionsSetup(IOptions<AuthOptions> auth, SigningKeyStore keys)
    {
        _auth = auth.Value;
        _keys = keys;
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, JwtBearerOptions options)
    {
        if (name != JwtBearerDefaults.AuthenticationScheme)
        {
            return;
        }

        options.MapInboundClaims = false;
        // SaveToken (on by default) copies the raw access token into the authentication properties, which a WebSocket
        // connection keeps for its whole lifetime: about 1 KiB per connection of token text nothing here reads.
        options.SaveToken = false;
        var parameters = options.TokenValidationParameters;
        parameters.NameClaimType = GatewayClaimTypes.UserId;
        parameters.RoleClaimType = GatewayClaimTypes.Role;
        parameters.ClockSkew = TimeSpan.FromSeconds(_auth.ClockSkewSeconds);
        parameters.ValidAudience = _auth.Audience;

        if (_auth.UsesExternalAuthority)
        {
            // The issuer and the signing keys come from the authority's metadata.
            options.Authority = _auth.Authority;
            options.RequireHttpsMetadata = new Uri(_auth.Authority).Scheme == Uri.UriSchemeHttps;
        }
        else
        {
            parameters.ValidIssuer = _auth.Issuer;
            parameters.IssuerSigningKey = _keys.Key;
            parameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
        }

        options.Events ??= new JwtBearerEvents();
        options.Events.OnMessageReceived = context =>
        {
            if (context.Token is null
                && context.HttpContext.Request.Path.StartsWithSegments(HubPathPrefix, StringComparison.OrdinalIgnoreCase)
                && QueryAccessToken.Take(context.HttpContext) is { Length: > 0 } token)
            {
                context.Token = token;
            }

            return Task.CompletedTask;
        };
        options.Events.OnTokenValidated = context =>
        {
            context.Principal = LeanPrincipal.From(context.Principal!);
            return Task.CompletedTask;
        };
    }
}
