using System.CommandLine;

namespace Gateway.Server.Cli;

/// <summary>
/// The gateway executable's commands. Without a command the executable runs the server; with one of
/// these it runs the command and exits: 0 ok, 1 refused or failed (one line on stderr), 2 bad usage.
/// </summary>
public static class GatewayCommandLine
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    private static readonly string[] CommandWords = ["migrate", "token", "--help", "-h", "-?", "--version"];

    /// <summary>Whether the arguments name a command rather than server settings such as --urls.</summary>
    public static bool Handles(string[] args) => args.Length > 0 && CommandWords.Contains(args[0], StringComparer.Ordinal);

    public static async Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var root = new RootCommand(
            "Gateway: the real-time session gateway of the orchestrator's database. "
            + "Run without a command to start the server (settings from appsettings.json, environment variables, --key=value).");
        root.Subcommands.Add(MigrateCommand.Create(output, error));
        root.Subcommands.Add(TokenCommand.Create(output, error));

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            var message = string.Join(' ', parseResult.Errors[0].Message.Split((char[])['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries));
            await error.WriteLineAsync($"error: {message} (see --help)");
            return Usage;
        }

        return await parseResult.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }
}
