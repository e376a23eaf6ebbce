namespace Gateway.Server.Cli;

/// <summary>The configuration a command sees: the same appsettings.json and environment as the server.</summary>
internal static class CliConfiguration
{
    public static IConfiguration Load() =>
        new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
}
