using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Gateway.Client;
using Gateway.Contracts;

namespace Gateway.Samples;

/// <summary>
/// <c>watch</c>: connects with <see cref="GatewayClient"/>, subscribes to every event (or one task's or workflow's) and
/// prints one line per event (<c>id  time  type  subject  summary</c>), plus a status line on reconnects and resets.
/// </summary>
internal static class WatchCommand
{
    private const string Format = "{0,-8}  {1,-12}  {2,-22}  {3,-22}  {4}";

    public static Command Create(TextWriter output)
    {
        var url = CommonOptions.Url();
        var token = CommonOptions.Token();
        var task = new Option<string?>("--task") { Description = "Follow only this task's events." };
        var workflow = new Option<string?>("--workflow") { Description = "Follow only this workflow's events." };
        var protocol = new Option<string>("--protocol")
        {
            Description = "The hub protocol.",
            DefaultValueFactory = _ => "json",
        };
        protocol.AcceptOnlyFromAmong("json", "messagepack");
        var after = new Option<long?>("--after")
        {
            Description = "Replay the logged events after this id first (0: the whole retained log); default: live only.",
        };
        var maxEvents = new Option<int>("--max-events")
        {
            Description = "Exit after this many events (0: no limit).",
            DefaultValueFactory = _ => 0,
        };
        var exitAfter = new Option<double>("--exit-after")
        {
            Description = "Exit after this many seconds (0: run until Ctrl+C).",
            DefaultValueFactory = _ => 0,
        };
        var command = new Command("watch", "Render the gateway's events live, one line each, until Ctrl+C.")
        {
            url, token, task, workflow, protocol, after, maxEvents, exitAfter,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(
            output,
            new Settings(
                parse.GetValue(url)!,
                parse.GetValue(token)!,
                parse.GetValue(task),
                parse.GetValue(workflow),
                parse.GetValue(protocol) == "messagepack" ? GatewayProtocol.MessagePack : GatewayProtocol.Json,
                parse.GetValue(after),
                parse.GetValue(maxEvents),
                parse.GetValue(exitAfter)),
            cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(TextWriter output, Settings settings, CancellationToken cancellationToken)
    {
        // Checked here: System.CommandLine's validators do not see the options' default values.
        if (settings.Task is not null && settings.Workflow is not null)
        {
            await output.WriteLineAsync("error: --task and --workflow exclude each other: follow one task, one workflow, or (neither) everything");
            return Program.Failed;
        }

        if (settings.MaxEvents < 0 || settings.ExitAfterSeconds < 0 || double.IsNaN(settings.ExitAfterSeconds))
        {
            await output.WriteLineAsync("error: --max-events and --exit-after must be 0 or more");
            return Program.Failed;
        }

        var request = settings switch
        {
            { Task: { } taskId } => new SubscriptionRequest(SubscriptionScopes.Task, taskId, AfterEventId: settings.After),
            { Workflow: { } workflowId } => new SubscriptionRequest(SubscriptionScopes.Workflow, workflowId, AfterEventId: settings.After),
            _ => new SubscriptionRequest(SubscriptionScopes.All, AfterEventId: settings.After),
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (settings.ExitAfterSeconds > 0)
        {
            stop.CancelAfter(TimeSpan.FromSeconds(settings.ExitAfterSeconds));
        }

        var count = 0;
        await using var client = new GatewayClient(new GatewayClientOptions
        {
            Url = settings.Url,
            AccessToken = settings.Token,
            Protocol = settings.Protocol,
            ClientId = "dotnet-console-watch-" + Guid.NewGuid().ToString("N")[..8],
        });
        client.Reconnecting += error => Status(output, $"connection lost ({error?.Message ?? "no reason given"}); reconnecting");
        client.Reconnected += established => Status(output, $"reconnected: session {established.SessionId} on {established.NodeId}; resuming after the last event shown");
        client.ConnectionClosing += notice => Status(output, $"gateway closing the connection: {notice.Code} ({notice.Reason}), reconnect={notice.Reconnect}");
        client.Closed += reason => Status(output, $"closed: {reason.Code} {reason.Message}");

        try
        {
            await client.StartAsync(stop.Token);
            await Status(output, $"connected to {settings.Url} ({settings.Protocol}), session {client.SessionId}; following {Describe(request)}");
            output.WriteLine(Format, "ID", "TIME", "TYPE", "SUBJECT", "SUMMARY");
            await client.SubscribeAsync(
                request,
                gatewayEvent =>
                {
                    output.WriteLine(Format, gatewayEvent.Id, gatewayEvent.Timestamp.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture),
                        gatewayEvent.Type, Subject(gatewayEvent), Summary(gatewayEvent.Payload));
                    if (settings.MaxEvents > 0 && ++count >= settings.MaxEvents)
                    {
                        stop.Cancel();
                    }

                    return Task.CompletedTask;
                },
                ack => Status(output, $"reset: the position is older than the gateway's log; reload state; live from event {ack.HeadEventId}"),
                stop.Token);
            await Task.Delay(Timeout.InfiniteTimeSpan, stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Ctrl+C, --exit-after or --max-events: a normal end.
        }
        catch (GatewayConnectException exception)
        {
            await output.WriteLineAsync($"error: could not connect ({exception.Code}): {exception.Message}");
            return Program.Failed;
        }
        catch (GatewayHubException exception)
        {
            await output.WriteLineAsync($"error: the gateway refused the subscription ({exception.Code}): {exception.Message}");
            return Program.Failed;
        }

        await client.StopAsync(CancellationToken.None);
        await Status(output, $"stopped after {Volatile.Read(ref count)} events");
        return Program.Ok;
    }

    private static Task Status(TextWriter output, string text)
    {
        output.WriteLine($"-- {text}");
        return Task.CompletedTask;
    }

    private static string Describe(SubscriptionRequest request) =>
        (request.Id is null ? "all events" : $"{request.Scope} {request.Id}")
        + (request.AfterEventId is { } after ? $" (replaying after event {after})" : " (live)");

    private static string Subject(GatewayEvent gatewayEvent) =>
        gatewayEvent.ExecutionId is { } execution ? "tool:" + Short(execution)
        : gatewayEvent.TaskId is { } task ? "task:" + Short(task)
        : gatewayEvent.WorkflowId is { } workflow ? "workflow:" + Short(workflow)
        : "-";

    /// <summary>The end of a UUID v7 (its random part), enough to tell rows apart on one screen.</summary>
    private static string Short(string id) => id.Length > 12 ? id[^12..] : id;

    /// <summary>The payload's scalar fields as <c>name=value</c>, shortened to fit one line.</summary>
    internal static string Summary(string payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Clip(document.RootElement.GetRawText());
            }

            var text = new StringBuilder();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                // Ids are in the subject column and the time in its own; tool output is shown by its size.
                if (property.Name.EndsWith("_id", StringComparison.Ordinal) || property.Name is "id" or "timestamp")
                {
                    continue;
                }

                var value = property.Value.ValueKind switch
                {
                    JsonValueKind.String when property.Name == "output" => $"{Encoding.UTF8.GetByteCount(property.Value.GetString() ?? string.Empty)}B",
                    JsonValueKind.String => property.Value.GetString() ?? string.Empty,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => property.Value.GetRawText(),
                    JsonValueKind.Null => null,
                    _ => "{..}",
                };
                if (value is null)
                {
                    continue;
                }

                text.Append(text.Length == 0 ? string.Empty : " ").Append(property.Name).Append('=').Append(value.Length > 24 ? value[..24] + "…" : value);
            }

            return Clip(text.ToString());
        }
        catch (JsonException)
        {
            return Clip(payload);
        }
    }

    private static string Clip(string text)
    {
        text = text.ReplaceLineEndings(" ");
        return text.Length > 100 ? text[..100] + "…" : text;
    }

    private sealed record Settings(
        Uri Url, string Token, string? Task, string? Workflow, GatewayProtocol Protocol, long? After, int MaxEvents, double ExitAfterSeconds);
}
