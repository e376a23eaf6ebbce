using Gateway.Server.Api;
using Gateway.Server.Auth;
using Gateway.Server.Cli;
using Gateway.Server.Dashboard;
using Gateway.Server.Database;
using Gateway.Server.Events;
using Gateway.Server.Health;
using Gateway.Server.Hubs;
using Gateway.Server.Metrics;
using Gateway.Server.OpenApi;
using Gateway.Server.Orchestration;
using Gateway.Server.Origins;
using Gateway.Server.RateLimiting;
using Gateway.Server.Sessions;

if (GatewayCommandLine.Handles(args))
{
    return await GatewayCommandLine.InvokeAsync(args, Console.Out, Console.Error, CancellationToken.None);
}

// The content root is the executable's folder, where the repository's top-level appsettings.json is copied.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddGatewayDatabase();
builder.AddGatewayAuth();
builder.AddGatewaySessions();
builder.AddGatewayHub();
builder.AddGatewayEvents();
builder.AddGatewayOrchestration();
builder.Services.AddProblemDetails();
builder.Services.AddGatewayHealth();
builder.Services.AddGatewayOpenApi();
builder.Services.AddGatewayMetrics();
builder.Services.AddGatewayRateLimits();
builder.Services.AddGatewayOrigins();
builder.Services.AddGatewayProxies();

var app = builder.Build();
app.UseGatewayProxies();
// Problem details for errors and bare status codes, except on upgrade requests (WebSockets): there is no response body
// to give once upgraded, and an awaiting middleware keeps its state for a WebSocket's whole life (scenario c, bench/HISTORY.md).
app.UseWhen(context => !GatewayRequests.IsUpgrade(context), problems => problems.UseExceptionHandler().UseStatusCodePages());
app.UseGatewayDashboard();
app.UseGatewayOrigins();
app.UseMiddleware<Gateway.Server.Cluster.NodeStandingMiddleware>();
app.UseGatewayAuth();
app.UseGatewayRateLimits();
app.UseGatewayRequestCharset();
app.MapGatewayHealth();
app.MapGatewayMe();
app.MapGatewayHub();
app.MapGatewaySessions();
app.MapGatewayOrchestration();
app.MapGatewayOpenApi();
app.MapGatewayMetrics();

if (!app.CheckGatewayAuth() || !await app.PrepareGatewayDatabaseAsync())
{
    // Disposing flushes the console logger's queue, so the reason for the refusal is printed.
    await app.DisposeAsync();
    return 1;
}

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the test host.</summary>
public partial class Program;
