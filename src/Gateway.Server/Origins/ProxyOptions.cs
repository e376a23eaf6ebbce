using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.Extensions.Options;

namespace Gateway.Server.Origins;

/// <summary>
/// The load balancers or reverse proxies in front of this node. Bound from the "Proxy" section and validated at start.
/// A request from one of them is taken to come from the address in its <c>X-Forwarded-For</c> (and over the scheme in
/// <c>X-Forwarded-Proto</c>): the connection rate limit, the sessions' recorded address and the origin check then see
/// the client, not the balancer. Empty (the default): no forwarded header is believed, from anyone.
/// </summary>
public sealed class ProxyOptions
{
    public const string SectionName = "Proxy";

    /// <summary>Addresses (<c>10.0.0.5</c>) or networks (<c>10.0.0.0/24</c>) of the balancers; nothing else is trusted.</summary>
    public string[] TrustedProxies { get; set; } = [];

    internal static bool TryParse(string entry, out IPNetwork network)
    {
        if (IPAddress.TryParse(entry, out var address))
        {
            network = new IPNetwork(address, address.GetAddressBytes().Length * 8);
            return true;
        }

        return IPNetwork.TryParse(entry, out network);
    }
}

internal sealed class ProxyOptionsValidator : IValidateOptions<ProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, ProxyOptions options)
    {
        var bad = options.TrustedProxies.Where(entry => !ProxyOptions.TryParse(entry ?? string.Empty, out _)).ToList();
        return bad.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"Proxy: TrustedProxies holds {string.Join(", ", bad.Select(entry => $"'{entry}'"))}, which is neither an IP address nor a network such as 10.0.0.0/24");
    }
}

public static class ProxyServiceCollectionExtensions
{
    public static IServiceCollection AddGatewayProxies(this IServiceCollection services)
    {
        services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ProxyOptions>, ProxyOptionsValidator>();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((forwarded, proxies) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // ASP.NET Core trusts loopback by default; only what is configured is trusted here.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var entry in proxies.Value.TrustedProxies)
            {
                if (ProxyOptions.TryParse(entry, out var network))
                {
                    forwarded.KnownIPNetworks.Add(network);
                }
            }
        });
        return services;
    }

    /// <summary>First in the pipeline: everything after it sees the client's address.</summary>
    public static WebApplication UseGatewayProxies(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ProxyOptions>>().Value.TrustedProxies.Length > 0)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }
}
