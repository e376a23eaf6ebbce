using Microsoft.AspNetCore.StaticFiles;

namespace Gateway.Server.Dashboard;

/// <summary>Caching and security headers of the dashboard's static files.</summary>
internal static class DashboardHeaders
{
    /// <summary>The vendor scripts change only with a gateway release, so browsers may keep them for an hour.</summary>
    private const string VendorCache = "public, max-age=3600";

    /// <summary>
    /// Pages, modules and styles are not fingerprinted: browsers keep them but revalidate every time (a cheap 304 by
    /// ETag), so a new gateway version is never mixed with old modules.
    /// </summary>
    private const string RevalidateCache = "no-cache";

    public static void Apply(StaticFileResponseContext context)
    {
        var response = context.Context.Response;
        var path = context.Context.Request.Path;
        response.Headers.CacheControl = path.StartsWithSegments("/lib", StringComparison.Ordinal) ? VendorCache : RevalidateCache;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        if (context.File.Name.EndsWith(".html", StringComparison.Ordinal))
        {
            response.Headers.ContentSecurityPolicy = ContentSecurityPolicy(context.Context.Request.Host);
            response.Headers.XFrameOptions = "DENY";
        }
    }

    /// <summary>
    /// Scripts and styles only from files of this origin (no inline script, no eval), data only from this origin: REST
    /// and the hub's WebSocket, Server-Sent Events or Long Polling. The WebSocket origin is named explicitly because
    /// older browsers do not let 'self' cover ws: and wss:.
    /// </summary>
    internal static string ContentSecurityPolicy(HostString host) =>
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        + $"connect-src 'self' ws://{host} wss://{host}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}
