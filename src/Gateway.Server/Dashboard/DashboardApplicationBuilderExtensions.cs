using Microsoft.Extensions.FileProviders;

namespace Gateway.Server.Dashboard;

public static class DashboardApplicationBuilderExtensions
{
    /// <summary>The folder beside the binary the build fills with the dashboard (see Gateway.Server.csproj).</summary>
    public const string FolderName = "dashboard";

    /// <summary>
    /// Serves the web dashboard at <c>/</c> (and the browser client sample at <c>/samples/browser/</c>) from
    /// <see cref="FolderName"/> beside the binary. Call before <c>UseGatewayAuth</c>: the files carry no data (all of it
    /// comes over the authenticated hub and REST), so they are served before the fallback policy could ask for a token.
    /// Paths that are not files fall through to the endpoints. A build without the folder serves nothing and logs why.
    /// </summary>
    public static WebApplication UseGatewayDashboard(this WebApplication app)
    {
        var root = Path.Combine(AppContext.BaseDirectory, FolderName);
        if (!Directory.Exists(root))
        {
            DashboardLog.FolderMissing(app.Logger, root);
            return app;
        }

        var files = new PhysicalFileProvider(root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, OnPrepareResponse = DashboardHeaders.Apply });
        return app;
    }
}
