using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Dashboard.Tests.Infrastructure;

/// <summary>A console message of a page: type (log, warning, error, pageerror...), text and the script's URL.</summary>
public sealed record ConsoleMessage(string Type, string Text, string Url)
{
    public bool IsError => Type is "error" or "pageerror";

    public override string ToString() => $"[{Type}] {Text} {Url}".TrimEnd();
}

/// <summary>
/// A page in its own browser context (fresh storage). A failing command throws with the page's console and a
/// screenshot path, so a red test shows what the page showed.
/// </summary>
public sealed class BrowserPage : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static int s_pages;
    private readonly BrowserDriver _driver;

    private BrowserPage(BrowserDriver driver, string name)
    {
        _driver = driver;
        Name = name;
    }

    public string Name { get; }

    public static async Task<BrowserPage> OpenAsync(BrowserDriver driver, int width = 1280, int height = 900)
    {
        var name = $"page{Interlocked.Increment(ref s_pages)}";
        await driver.SendAsync("newPage", new JsonObject { ["page"] = name, ["width"] = width, ["height"] = height });
        return new BrowserPage(driver, name);
    }

    public Task GotoAsync(Uri url) => RunAsync("goto", new JsonObject { ["url"] = url.ToString() });

    public Task FillAsync(string selector, string value) => RunAsync("fill", new JsonObject { ["selector"] = selector, ["value"] = value });

    public Task ClickAsync(string selector) => RunAsync("click", new JsonObject { ["selector"] = selector });

    public Task SelectAsync(string selector, string value) => RunAsync("select", new JsonObject { ["selector"] = selector, ["value"] = value });

    /// <summary>Waits for an element matching <paramref name="selector"/> (containing <paramref name="text"/> when given) to be visible.</summary>
    public Task WaitForAsync(string selector, string? text = null, TimeSpan? timeout = null, string state = "visible") =>
        RunAsync("waitFor", new JsonObject
        {
            ["selector"] = selector,
            ["text"] = text,
            ["state"] = state,
            ["timeoutMs"] = (int)(timeout ?? DefaultTimeout).TotalMilliseconds,
        });

    /// <summary>Waits for a JavaScript expression to be truthy in the page.</summary>
    public Task WaitForFunctionAsync(string expression, TimeSpan? timeout = null) =>
        RunAsync("waitForFunction", new JsonObject { ["expression"] = expression, ["timeoutMs"] = (int)(timeout ?? DefaultTimeout).TotalMilliseconds });

    public async Task<string> TextAsync(string selector) =>
        (await RunAsync("text", new JsonObject { ["selector"] = selector }))?.GetValue<string>() ?? string.Empty;

    public async Task<T> EvaluateAsync<T>(string expression)
    {
        var result = await RunAsync("evaluate", new JsonObject { ["expression"] = expression });
        return result is null ? default! : result.Deserialize<T>()!;
    }

    public Task SetViewportAsync(int width, int height) => RunAsync("viewport", new JsonObject { ["width"] = width, ["height"] = height });

    public async Task<string> ScreenshotAsync(string path, bool fullPage = true)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await _driver.SendAsync("screenshot", new JsonObject { ["page"] = Name, ["path"] = path, ["fullPage"] = fullPage });
        return path;
    }

    public async Task<IReadOnlyList<ConsoleMessage>> ConsoleAsync()
    {
        var result = await _driver.SendAsync("console", new JsonObject { ["page"] = Name });
        return result?.Deserialize<List<ConsoleMessage>>(Json) ?? [];
    }

    /// <summary>Fails when the page logged any error (console.error, an uncaught exception, a failed load).</summary>
    public async Task AssertNoConsoleErrorsAsync(Func<ConsoleMessage, bool>? expected = null)
    {
        var errors = (await ConsoleAsync()).Where(m => m.IsError && !(expected?.Invoke(m) ?? false)).ToList();
        if (errors.Count > 0)
        {
            throw new BrowserException($"{Name} logged errors:\n{string.Join('\n', errors)}\n{await DiagnosticsAsync()}");
        }
    }

    private async Task<JsonNode?> RunAsync(string command, JsonObject arguments)
    {
        arguments["page"] = Name;
        try
        {
            return await _driver.SendAsync(command, arguments);
        }
        catch (BrowserException exception)
        {
            throw new BrowserException($"{command} {arguments.ToJsonString()} failed: {exception.Message}\n{await DiagnosticsAsync()}");
        }
    }

    /// <summary>The page's console and a screenshot, for a failure message.</summary>
    private async Task<string> DiagnosticsAsync()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "screenshots", $"failure-{Name}-{DateTime.UtcNow:HHmmssfff}.png");
        string shot;
        try
        {
            shot = await ScreenshotAsync(path);
        }
        catch (BrowserException exception)
        {
            shot = $"(no screenshot: {exception.Message})";
        }

        IReadOnlyList<ConsoleMessage> console;
        try
        {
            console = await ConsoleAsync();
        }
        catch (BrowserException)
        {
            console = [];
        }

        return $"Screenshot: {shot}\nPage console ({console.Count}):\n{string.Join('\n', console)}";
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _driver.SendAsync("closePage", new JsonObject { ["page"] = Name });
        }
        catch (BrowserException)
        {
            // The browser is gone already; nothing left to close.
        }
    }
}
