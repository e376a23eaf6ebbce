using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Client;
using Gateway.Contracts;

namespace Gateway.Samples;

/// <summary>
/// <c>agent</c>: simulates an orchestrator agent. Commands go through the gateway's REST API (GatewayClient exposes the
/// session methods and event subscriptions only, no task, workflow or tool execution methods); the agent's own
/// <see cref="GatewayClient"/> session follows the workflow's and tasks' events to count the events it caused.
/// </summary>
internal static class AgentCommand
{
    public static Command Create(TextWriter output)
    {
        var url = CommonOptions.Url();
        var token = CommonOptions.Token();
        var tasks = new Option<int>("--tasks") { Description = "How many tasks the workflow gets.", DefaultValueFactory = _ => 5 };
        var rate = new Option<double>("--rate") { Description = "Gateway calls per second (pacing).", DefaultValueFactory = _ => 10 };
        var outputBytes = new Option<int>("--output-bytes")
        {
            Description = "Bytes per tool output chunk (3 chunks per tool execution).",
            DefaultValueFactory = _ => 256,
        };
        var failEvery = new Option<int>("--fail-every")
        {
            Description = "Fail the tool execution and the task of every K-th task (0: none fails).",
            DefaultValueFactory = _ => 0,
        };
        var seed = new Option<int?>("--seed") { Description = "Seed of the simulated output and progress (default: random)." };
        var command = new Command("agent", "Simulate an orchestrator agent: a workflow of tasks, each with a tool execution; prints a summary.")
        {
            url, token, tasks, rate, outputBytes, failEvery, seed,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new Settings(
                parse.GetValue(url)!,
                parse.GetValue(token)!,
                parse.GetValue(tasks),
                parse.GetValue(rate),
                parse.GetValue(outputBytes),
                parse.GetValue(failEvery),
                parse.GetValue(seed));
            if (Problem(settings) is { } problem)
            {
                await output.WriteLineAsync($"error: {problem}");
                return Program.Failed;
            }

            try
            {
                return await RunAsync(output, settings, cancellationToken);
            }
            catch (GatewayApiException exception)
            {
                await output.WriteLineAsync($"error: {exception.Message}");
                return Program.Failed;
            }
            catch (HttpRequestException exception)
            {
                await output.WriteLineAsync($"error: the gateway did not answer: {exception.Message}");
                return Program.Failed;
            }
            catch (GatewayConnectException exception)
            {
                await output.WriteLineAsync($"error: could not connect to the hub ({exception.Code}): {exception.Message}");
                return Program.Failed;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await output.WriteLineAsync("agent: cancelled");
                return Program.Failed;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(TextWriter output, Settings settings, CancellationToken cancellationToken)
    {
        var random = settings.Seed is { } seed ? new Random(seed) : new Random();
        var pace = new Pacer(settings.Rate);
        using var http = new HttpClient { BaseAddress = settings.Url, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        var api = new Api(http, pace);

        // The agent's session: it follows what it changes, to count the events it caused (deduplicated by id).
        var seen = new HashSet<long>();
        var lastSeen = Stopwatch.GetTimestamp();
        var gate = new object();
        await using var client = new GatewayClient(new GatewayClientOptions
        {
            Url = settings.Url,
            AccessToken = settings.Token,
            ClientId = "dotnet-console-agent-" + Guid.NewGuid().ToString("N")[..8],
        });
        await client.StartAsync(cancellationToken);
        Task Count(GatewayEvent gatewayEvent)
        {
            lock (gate)
            {
                seen.Add(gatewayEvent.Id);
                lastSeen = Stopwatch.GetTimestamp();
            }

            return Task.CompletedTask;
        }

        var started = Stopwatch.GetTimestamp();
        var workflow = await api.PostAsync("/api/workflows", new
        {
            name = $"sample-agent-{DateTime.UtcNow:yyyyMMdd-HHmmss}",
            description = $"{settings.Tasks} simulated tasks",
            definition = new { source = "client-samples/dotnet-console", tasks = settings.Tasks, failEvery = settings.FailEvery },
        }, cancellationToken);
        var workflowId = workflow.GetProperty("id").GetString()!;
        // After event 0: the whole retained log of this workflow (its creation included), then live.
        await client.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Workflow, workflowId, AfterEventId: 0), Count, null, cancellationToken);
        await output.WriteLineAsync($"agent: workflow {workflowId} created");

        var taskIds = new List<string>();
        for (var index = 1; index <= settings.Tasks; index++)
        {
            var task = await api.PostAsync("/api/tasks", new
            {
                title = $"simulated task {index}",
                taskType = "sample",
                description = "created by the dotnet-console sample agent",
                config = new { index },
            }, cancellationToken);
            var taskId = task.GetProperty("id").GetString()!;
            taskIds.Add(taskId);
            await client.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task, taskId, AfterEventId: 0), Count, null, cancellationToken);
            await api.PostAsync($"/api/workflows/{workflowId}/tasks", new { taskId }, cancellationToken);
        }

        await api.PostAsync($"/api/workflows/{workflowId}/status", new { status = "active" }, cancellationToken);
        await output.WriteLineAsync($"agent: workflow {workflowId} active with {taskIds.Count} tasks");

        int completed = 0, failed = 0, tools = 0;
        for (var index = 1; index <= taskIds.Count; index++)
        {
            var taskId = taskIds[index - 1];
            var fails = settings.FailEvery > 0 && index % settings.FailEvery == 0;
            await api.PostAsync($"/api/tasks/{taskId}/status", new { status = "running" }, cancellationToken);
            var execution = await api.PostAsync($"/api/tasks/{taskId}/tool-executions", new
            {
                toolName = "shell",
                arguments = new { command = $"simulate --task {index}" },
            }, cancellationToken);
            var executionId = execution.GetProperty("id").GetString()!;
            tools++;
            for (var chunk = 0; chunk < 3; chunk++)
            {
                await api.PostAsync($"/api/tool-executions/{executionId}/output", new
                {
                    output = Chunk(random, settings.OutputBytes),
                    isStderr = fails && chunk == 2,
                }, cancellationToken);
            }

            if (fails)
            {
                const string error = "simulated failure (--fail-every)";
                await api.PostAsync($"/api/tool-executions/{executionId}/fail", new { error, exitCode = 1 }, cancellationToken);
                await api.PostAsync($"/api/tasks/{taskId}/status", new { status = "failed", error }, cancellationToken);
                failed++;
                await output.WriteLineAsync($"agent: task {index}/{taskIds.Count} {taskId} failed");
                continue;
            }

            await api.PostAsync($"/api/tool-executions/{executionId}/complete", new { exitCode = 0 }, cancellationToken);
            await api.PostAsync($"/api/tasks/{taskId}/progress", new { progress = random.Next(50, 100), message = "tool finished" }, cancellationToken);
            await api.PostAsync($"/api/tasks/{taskId}/status", new { status = "completed", result = new { chunks = 3, bytes = 3 * settings.OutputBytes } }, cancellationToken);
            completed++;
            await output.WriteLineAsync($"agent: task {index}/{taskIds.Count} {taskId} completed");
        }

        var final = await api.GetAsync($"/api/workflows/{workflowId}", cancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);

        // Events are broadcast after their commit: wait until none arrived for a moment (at most 5 s).
        var quiet = TimeSpan.FromMilliseconds(500);
        var deadline = Stopwatch.GetTimestamp() + (long)(5 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            long last;
            lock (gate)
            {
                last = lastSeen;
            }

            if (Stopwatch.GetElapsedTime(last) >= quiet)
            {
                break;
            }

            await Task.Delay(100, cancellationToken);
        }

        int events;
        lock (gate)
        {
            events = seen.Count;
        }

        await client.StopAsync(CancellationToken.None);
        await output.WriteLineAsync(
            $"agent summary: workflow {workflowId} {final.GetProperty("status").GetString()}; tasks {taskIds.Count}: completed {completed}, failed {failed}; "
            + $"tool executions {tools}; gateway calls {pace.Calls}; events caused {events}; {elapsed.TotalSeconds:0.0} s");
        return Program.Ok;
    }

    /// <summary>Checked in the action: System.CommandLine's validators do not see the options' default values.</summary>
    private static string? Problem(Settings settings) =>
        settings.Tasks is < 1 or > 10_000 ? "--tasks must be 1 to 10000"
        : !(settings.Rate > 0) ? "--rate must be more than 0 (calls per second)"
        : settings.OutputBytes is < 1 or > 300_000 ? "--output-bytes must be 1 to 300000 (a tool execution keeps at most 1 MiB of output)"
        : settings.FailEvery < 0 ? "--fail-every must be 0 (never) or more"
        : null;

    private static string Chunk(Random random, int bytes)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ";
        var text = new char[bytes];
        for (var i = 0; i < bytes; i++)
        {
            text[i] = (i + 1) % 80 == 0 ? '\n' : alphabet[random.Next(alphabet.Length)];
        }

        return new string(text);
    }

    private sealed record Settings(Uri Url, string Token, int Tasks, double Rate, int OutputBytes, int FailEvery, int? Seed);

    /// <summary>Spaces the gateway calls at most <c>rate</c> per second.</summary>
    private sealed class Pacer(double rate)
    {
        private readonly long _interval = (long)(Stopwatch.Frequency / rate);
        private long _next = Stopwatch.GetTimestamp();

        public int Calls { get; private set; }

        public async Task WaitAsync(CancellationToken cancellationToken)
        {
            var now = Stopwatch.GetTimestamp();
            if (_next > now)
            {
                await Task.Delay(TimeSpan.FromSeconds((_next - now) / (double)Stopwatch.Frequency), cancellationToken);
            }

            _next = Math.Max(_next, now) + _interval;
            Calls++;
        }
    }

    /// <summary>The REST calls, each paced; a refusal (problem details) becomes a <see cref="GatewayApiException"/>.</summary>
    private sealed class Api(HttpClient http, Pacer pace)
    {
        public async Task<JsonElement> PostAsync<T>(string path, T body, CancellationToken cancellationToken)
        {
            await pace.WaitAsync(cancellationToken);
            using var response = await http.PostAsJsonAsync(path, body, cancellationToken);
            return await ReadAsync(HttpMethod.Post, path, response, cancellationToken);
        }

        public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken)
        {
            await pace.WaitAsync(cancellationToken);
            using var response = await http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
            return await ReadAsync(HttpMethod.Get, path, response, cancellationToken);
        }

        private static async Task<JsonElement> ReadAsync(HttpMethod method, string path, HttpResponseMessage response, CancellationToken cancellationToken)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new GatewayApiException($"{method} {path}: {(int)response.StatusCode} {response.StatusCode} {text}");
            }

            if (string.IsNullOrWhiteSpace(text))
            {
                return default;
            }

            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
    }
}

/// <summary>The gateway refused a REST call; the message holds the method, path, status and problem details.</summary>
public sealed class GatewayApiException : Exception
{
    public GatewayApiException()
    {
    }

    public GatewayApiException(string message)
        : base(message)
    {
    }

    public GatewayApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
