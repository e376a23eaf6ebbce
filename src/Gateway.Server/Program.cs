using Gateway.Server.Cli;
using Gateway.Server.Database;
using Gateway.Server.Health;

if (GatewayCommandLine.Handles(args))
{
    return await GatewayCommandLine.InvokeAsync(args, Console.Out, Console.Error, CancellationToken.None);
}

// The content root is the executable's folder, where the repository's top-level appsettings.json is copied.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddGatewayDatabase();
builder.Services.AddGatewayHealth();

var app = builder.Build();
app.MapGatewayHealth();

if (!await app.PrepareGatewayDatabaseAsync())
{
    // Disposing flushes the console logger's queue, so the reason for the refusal is printed.
    await app.DisposeAsync();
    return 1;
}

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the test host.</summary>
public partial class Program;
