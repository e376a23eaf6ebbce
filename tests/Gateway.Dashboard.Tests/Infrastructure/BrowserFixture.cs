namespace Gateway.Dashboard.Tests.Infrastructure;

/// <summary>One Chromium per test class (starting one costs about a second); each test opens its own pages.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private BrowserDriver? _driver;

    public BrowserDriver Driver => _driver ?? throw new InvalidOperationException("the browser is not launched");

    public async Task InitializeAsync() => _driver = await BrowserDriver.LaunchAsync();

    public async Task DisposeAsync()
    {
        if (_driver is not null)
        {
            await _driver.DisposeAsync();
        }
    }

    public Task<BrowserPage> OpenPageAsync(int width = 1280, int height = 900) => BrowserPage.OpenAsync(Driver, width, height);
}
