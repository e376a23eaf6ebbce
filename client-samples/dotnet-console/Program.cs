using System.CommandLine;

namespace Gateway.Samples;

/// <summary>
/// <c>watch</c>: follows the gateway's event log and prints one line per event.
/// <c>agent</c>: simulates an orchestrator agent (a workflow of tasks with tool executions).
/// </summary>
public static class Program
{
    public const int Ok = 0;
    public const int Failed = 1;

    public static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // Ctrl+C ends the verb cleanly instead of killing the process.
            e.Cancel = true;
            stop.Cancel();
        };
        return await RunAsync(args, Console.Out, stop.Token);
    }

    /// <summary>The whole program, writing to <paramref name="output"/>; cancelling <paramref name="cancellationToken"/> is Ctrl+C.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        var writer = TextWriter.Synchronized(output);
        var root = new RootCommand("Gateway .NET console sample: watch the event log live, or simulate an orchestrator agent.")
        {
            WatchCommand.Create(writer),
            AgentCommand.Create(writer),
        };
        var configuration = new InvocationConfiguration { Output = writer, Error = writer, ProcessTerminationTimeout = null };
        return root.Parse(args).InvokeAsync(configuration, cancellationToken);
    }
}
