using Gateway.Contracts;
using Gateway.Server.Database;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Auth;

public static class AuthenticationServiceCollectionExtensions
{
    /// <summary>
    /// Bearer-token authentication (<see cref="AuthOptions"/>, validated at start) and the <see cref="GatewayPolicies"/>,
    /// with <see cref="GatewayPolicies.User"/> as the fallback: every endpoint requires a token with a gateway role
    /// unless it names a policy of its own or opts out with <c>.AllowAnonymous()</c>. Call after AddGatewayDatabase
    /// (the key file lives in Database:DataDirectory).
    /// </summary>
    public static WebApplicationBuilder AddGatewayAuth(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        // Browsers send their token as ?access_token= on WebSockets and SSE, and the host's "Request starting/finished"
        // lines print the whole URL: the token leaves the query string before the host creates the request's context.
        services.AddSingleton<IHttpContextFactory>(sp => new QueryAccessTokenHttpContextFactory(new DefaultHttpContextFactory(sp)));
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new SigningKeyStore(
            sp.GetRequiredService<IOptions<AuthOptions>>().Value, sp.GetRequiredService<IOptions<DatabaseOptions>>().Value));
        services.AddSingleton(sp => new TokenIssuer(
            sp.GetRequiredService<IOptions<AuthOptions>>().Value, sp.GetRequiredService<SigningKeyStore>(), sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<AuthStartup>();

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddSingleton<IConfigureOptions<JwtBearerOptions>, JwtBearerOptionsSetup>();

        var user = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole(GatewayRoles.All).Build();
        services.AddAuthorizationBuilder()
            .AddPolicy(GatewayPolicies.User, user)
            .AddPolicy(GatewayPolicies.Admin, policy => policy.RequireAuthenticatedUser().RequireRole(GatewayRoles.Admin))
            .AddPolicy(GatewayPolicies.Dashboard, policy => policy.RequireAuthenticatedUser().RequireRole(GatewayRoles.Admin, GatewayRoles.Dashboard))
            .AddPolicy(GatewayPolicies.Agent, policy => policy.RequireAuthenticatedUser().RequireRole(GatewayRoles.Admin, GatewayRoles.Agent))
            .SetFallbackPolicy(user);
        return builder;
    }

    /// <summary>
    /// Checks the "Auth" settings and the signing key (creating the key file if need be) before the server starts,
    /// as <c>PrepareGatewayDatabaseAsync</c> checks the database. False: do not start; each reason is logged as
    /// critical. Without this call a bad setting still stops the start (ValidateOnStart), but as an unhandled exception.
    /// </summary>
    public static bool CheckGatewayAuth(this WebApplication app) => AuthStartup.Check(app.Services);

    /// <summary>
    /// Authentication, then (with Auth:AllowAnonymous) the anonymous user for requests without a token, then
    /// authorization. Call before mapping endpoints. The anonymous middleware is always in the pipeline and passes
    /// requests on untouched when the setting is off: deciding here would read the options before they are
    /// validated at start.
    /// </summary>
    public static WebApplication UseGatewayAuth(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseMiddleware<AnonymousUserMiddleware>();
        app.UseAuthorization();
        return app;
    }
}
