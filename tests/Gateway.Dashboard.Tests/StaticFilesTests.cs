using System.Net;
using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.Dashboard.Tests;

/// <summary>How the gateway serves the dashboard's files: without a token, with caching and a strict CSP; the API still needs one.</summary>
public sealed partial class StaticFilesTests
{
    [Fact]
    public async Task Dashboard_files_are_served_without_a_token_under_a_csp_without_inline_script_while_the_api_still_needs_one()
    {
        using var server = new GatewayTestServer();
        var anonymous = server.CreateHttpClient();

        using var page = await anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var csp = string.Join(' ', page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self';", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.True(page.Headers.CacheControl?.NoCache, "pages are revalidated");
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotMatch(InlineScript(), html);
        Assert.DoesNotContain("//cdn", html, StringComparison.OrdinalIgnoreCase);

        foreach (var path in new[] { "/lib/signalr.min.js", "/lib/signalr-protocol-msgpack.min.js" })
        {
            using var vendor = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, vendor.StatusCode);
            Assert.Equal("text/javascript", vendor.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromHours(1), vendor.Headers.CacheControl?.MaxAge);
        }

        foreach (var path in new[] { "/js/main.js", "/css/dashboard.css", "/samples/browser/", "/samples/browser/app.js" })
        {
            using var file = await anonymous.GetAsync(path);
            Assert.True(file.StatusCode == HttpStatusCode.OK, $"{path}: {(int)file.StatusCode}");
        }

        // Serving files before authorization opens nothing else: data still needs a token.
        using var me = await anonymous.GetAsync("/api/me");
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        using var missing = await anonymous.GetAsync("/no-such-file.js");
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
    }

    /// <summary>A script element without a src attribute.</summary>
    [GeneratedRegex(@"<script(?![^>]*\bsrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();
}
