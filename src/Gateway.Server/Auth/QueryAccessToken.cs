using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.Server.Auth;

/// <summary>
/// The <c>access_token</c> a request carried in its query string, where browsers put it for WebSockets and SSE. It is
/// taken out of the query string as the request arrives (<see cref="QueryAccessTokenHttpContextFactory"/>), so no log
/// line, error page or trace that prints the URL can hold it, whatever log levels are configured; JwtBearer takes it
/// from here, on the hub's paths only.
/// </summary>
internal sealed class QueryAccessToken
{
    public const string Parameter = "access_token";

    private QueryAccessToken(string value) => Value = value;

    public string Value { get; }

    /// <summary>The request's token, forgotten once taken (a WebSocket keeps its request's features for its whole life).</summary>
    public static string? Take(HttpContext context)
    {
        var token = context.Features.Get<QueryAccessToken>();
        if (token is not null)
        {
            context.Features.Set<QueryAccessToken>(null);
        }

        return token?.Value;
    }

    /// <summary>
    /// Removes every <c>access_token</c> parameter (its name matched as <c>Request.Query</c> does: decoded, any case) from
    /// the request's query string and raw target, and keeps the first one's value as a feature of the request.
    /// </summary>
    public static void Extract(IFeatureCollection features)
    {
        if (features.Get<IHttpRequestFeature>() is not { } request)
        {
            return;
        }

        var query = request.QueryString;
        // Most requests: no such name, not even percent-encoded.
        if (string.IsNullOrEmpty(query) || (!query.Contains(Parameter, StringComparison.OrdinalIgnoreCase) && !query.Contains('%', StringComparison.Ordinal)))
        {
            return;
        }

        string? token = null;
        var found = false;
        var kept = new StringBuilder(query.Length);
        foreach (var pair in new QueryStringEnumerable(query))
        {
            if (pair.DecodeName().Span.Equals(Parameter, StringComparison.OrdinalIgnoreCase))
            {
                found = true;
                token ??= pair.DecodeValue().ToString();
                continue;
            }

            kept.Append(kept.Length == 0 ? '?' : '&').Append(pair.EncodedName.Span);
            if (!pair.EncodedValue.IsEmpty)
            {
                kept.Append('=').Append(pair.EncodedValue.Span);
            }
        }

        if (!found)
        {
            return;
        }

        var remaining = kept.ToString();
        request.QueryString = remaining;
        var rawQuery = request.RawTarget.IndexOf('?', StringComparison.Ordinal);
        if (rawQuery >= 0)
        {
            request.RawTarget = request.RawTarget[..rawQuery] + remaining;
        }

        if (!string.IsNullOrEmpty(token))
        {
            features.Set(new QueryAccessToken(token));
        }
    }
}

/// <summary>
/// The host's <see cref="IHttpContextFactory"/>, which runs before the host logs "Request starting" with the URL:
/// takes <c>access_token</c> out of the query string first (<see cref="QueryAccessToken"/>). A filter on the host's log
/// category cannot do this: a provider's own level (<c>Logging:Console:LogLevel:...</c>) outranks any rule without a
/// provider. (With a factory other than the default one the host creates a context per request instead of reusing
/// one per connection.)
/// </summary>
internal sealed class QueryAccessTokenHttpContextFactory(IHttpContextFactory inner) : IHttpContextFactory
{
    public HttpContext Create(IFeatureCollection featureCollection)
    {
        QueryAccessToken.Extract(featureCollection);
        return inner.Create(featureCollection);
    }

    public void Dispose(HttpContext httpContext) => inner.Dispose(httpContext);
}
