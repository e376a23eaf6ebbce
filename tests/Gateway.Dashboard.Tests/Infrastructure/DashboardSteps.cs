using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Testing;

namespace Gateway.Dashboard.Tests.Infrastructure;

/// <summary>Steps on the dashboard page and the REST calls the tests make as the orchestrator would.</summary>
public static class DashboardSteps
{
    /// <summary>Opens the dashboard at <paramref name="baseAddress"/>, signs in with the token and waits until it is live.</summary>
    public static async Task SignInAsync(this BrowserPage page, Uri baseAddress, string token)
    {
        await page.GotoAsync(baseAddress);
        await page.FillAsync("#token", token);
        await page.ClickAsync("#sign-in-button");
        await page.WaitForAsync("#connection[data-state='connected']");
    }

    public static string Card(string taskId, string status) => $".column[data-status='{status}'] .card[data-task-id='{taskId}']";

    public static string SessionRow(string sessionId) => $"#sessions-rows tr[data-session-id='{sessionId}']";

    /// <summary>Waits until the page's last handled event id is exactly <paramref name="eventId"/>.</summary>
    public static Task WaitForLastEventIdAsync(this BrowserPage page, long eventId) =>
        page.WaitForFunctionAsync($"document.getElementById('last-event-id').textContent === '{eventId}'");

    /// <summary>The event ids the page's stream shows, ascending.</summary>
    public static async Task<long[]> EventIdsAsync(this BrowserPage page) =>
        [.. (await page.EvaluateAsync<long[]>("[...document.querySelectorAll('#event-rows li')].map(li => Number(li.dataset.eventId))")).Order()];

    public static async Task<JsonElement> PostAsync(this HttpClient http, string path, object body)
    {
        using var response = await http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<string> CreateTaskAsync(this HttpClient http, string title, string taskType = "build") =>
        (await http.PostAsync("/api/tasks", new { title, taskType })).GetProperty("id").GetString()!;

    public static Task ChangeStatusAsync(this HttpClient http, string taskId, string status, string? error = null) =>
        http.PostAsync($"/api/tasks/{taskId}/status", new { status, error });

    /// <summary>The newest event id in the server's log.</summary>
    public static long HeadEventId(this GatewayTestServer server) => server.Database.QueryLong("SELECT COALESCE(MAX(id), 0) FROM gateway_events");
}
