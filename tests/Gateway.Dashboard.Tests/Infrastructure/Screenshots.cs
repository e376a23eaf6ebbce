using Gateway.Testing;

namespace Gateway.Dashboard.Tests.Infrastructure;

public static class Screenshots
{
    /// <summary>Set to 1 to refresh the committed <c>docs/dashboard.png</c> from the test's populated dashboard.</summary>
    public const string UpdateDocsVariable = "GATEWAY_UPDATE_SCREENSHOT";

    /// <summary>
    /// Saves a screenshot beside the test binaries (screenshots/), and into docs/ when <see cref="UpdateDocsVariable"/>
    /// is 1: an ordinary run never rewrites a committed file.
    /// </summary>
    public static async Task<string> SaveAsync(BrowserPage page, string fileName, bool updateDocs = true)
    {
        var path = await page.ScreenshotAsync(Path.Combine(AppContext.BaseDirectory, "screenshots", fileName), fullPage: true);
        if (updateDocs && Environment.GetEnvironmentVariable(UpdateDocsVariable) == "1")
        {
            File.Copy(path, Path.Combine(RepositoryPaths.Root, "docs", fileName), overwrite: true);
        }

        return path;
    }
}
