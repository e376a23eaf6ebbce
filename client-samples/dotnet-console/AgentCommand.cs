using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Gateway.Client;
using Gateway.Contracts;

namespace Gateway.Samples;

/// <summary>
/// <c>agent</c>: simulates an orchestrator agent over one <see cref="GatewayClient"/> session: the typed hub methods
/// (tasks, workflows, tool executions) make the changes, and the same session follows the workflow's and tasks'
/// events to count the events it caused.
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
            catch (GatewayHubException exception)
            {
                await output.WriteLineAsync($"error: the gateway refused ({exception.Code}): {exception.Message}");
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

        // One session does everything: the typed hub methods make the changes, and its subscriptions follow the
        // workflow and tasks to count the events the agent caused (deduplicated by id).
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

        async Task<T> Call<T>(Func<Task<T>> call)
        {
            await pace.WaitAsync(cancellationToken);
            return await call();
        }

        var started = Stopwatch.GetTimestamp();
        var definition = JsonSerializer.Serialize(new { source = "client-samples/dotnet-console", tasks = settings.Tasks, failEvery = settings.FailEvery });
        var workflow = await Call(() => client.CreateWorkflow(
            new CreateWorkflowCommand($"sample-agent-{DateTime.UtcNow:yyyyMMdd-HHmmss}", definition, $"{settings.Tasks} simulated tasks"),
            cancellationToken));
        // After event 0: the whole retained log of this workflow (its creation included), then live.
        await client.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Workflow, workflow.Id, AfterEventId: 0), Count, null, cancellationToken);
        await output.WriteLineAsync($"agent: workflow {workflow.Id} created");

        var taskIds = new List<string>();
        for (var index = 1; index <= settings.Tasks; index++)
        {
            var task = await Call(() => client.CreateTask(
                new CreateTaskCommand($"simulated task {index}", "sample", "created by the dotnet-console sample agent", $"{{\"index\":{index}}}"),
                cancellationToken));
            taskIds.Add(task.Id);
            await client.SubscribeAsync(new SubscriptionRequest(SubscriptionScopes.Task, task.Id, AfterEventId: 0), Count, null, cancellationToken);
            await Call(() => client.AddWorkflowTask(workflow.Id, task.Id, null, cancellationToken));
        }

        await Call(() => client.ChangeWorkflowStatus(workflow.Id, new ChangeWorkflowStatusCommand("active"), cancellationToken));
        await output.WriteLineAsync($"agent: workflow {workflow.Id} active with {taskIds.Count} tasks");

        int completed = 0, failed = 0, tools = 0;
        for (var index = 1; index <= taskIds.Count; index++)
        {
            var taskId = taskIds[index - 1];
            var fails = settings.FailEvery > 0 && index % settings.FailEvery == 0;
            await Call(() => client.ChangeTaskStatus(taskId, new ChangeTaskStatusCommand("running"), cancellationToken));
            var arguments = JsonSerializer.Serialize(new { command = $"simulate --task {index}" });
            var execution = await Call(() => client.StartToolExecution(taskId, new StartToolExecutionCommand("shell", arguments), cancellationToken));
            tools++;
            for (var chunk = 0; chunk < 3; chunk++)
            {
                var text = Chunk(random, settings.OutputBytes);
                var isStderr = fails && chunk == 2;
                await Call(() => client.AppendToolOutput(execution.Id, text, isStderr, cancellationToken));
            }

            if (fails)
            {
                const string error = "simulated failure (--fail-every)";
                await Call(() => client.FailToolExecution(execution.Id, error, cancellationToken));
                await Call(() => client.ChangeTaskStatus(taskId, new ChangeTaskStatusCommand("failed", Error: error), cancellationToken));
                failed++;
                await output.WriteLineAsync($"agent: task {index}/{taskIds.Count} {taskId} failed");
                continue;
            }

            await Call(() => client.CompleteToolExecution(execution.Id, 0, cancellationToken));
            var progress = random.Next(50, 100);
            await Call(() => client.ReportTaskProgress(taskId, progress, "tool finished", cancellationToken));
            var result = JsonSerializer.Serialize(new { chunks = 3, bytes = 3 * settings.OutputBytes });
            await Call(() => client.ChangeTaskStatus(taskId, new ChangeTaskStatusCommand("completed", Result: result), cancellationToken));
            completed++;
            await output.WriteLineAsync($"agent: task {index}/{taskIds.Count} {taskId} completed");
        }

        var final = await Call(() => client.GetWorkflow(workflow.Id, cancellationToken));
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
            $"agent summary: workflow {workflow.Id} {final.Status}; tasks {taskIds.Count}: completed {completed}, failed {failed}; "
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
}
