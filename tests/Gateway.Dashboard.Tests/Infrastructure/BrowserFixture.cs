namespace Gateway.Dashboard.Tests.Infrastructure;

/// <summary>One Chromium for all the browser tests (see <see cref="BrowserCollection"/>); each test opens its own pages, in their own contexts.</summary>
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

/// <summary>
/// The browser tests share one Chromium and run one at a time: each starts its own gateway and .NET clients, and on two
/// cores beside the rest of the suite, timing-sensitive pages do better without competing with each other.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
