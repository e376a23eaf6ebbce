using Microsoft.Extensions.Options;

namespace Gateway.Server.RateLimiting;

/// <summary>
/// Token buckets per node for HTTP requests, beside the hub's own per-connection bucket (Limits:InvocationsPerSecond).
/// Bound from the "RateLimits" section and validated at start. A rate of 0 turns that bucket off.
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>REST writes (POST, PUT, PATCH, DELETE) of one user refilled per second; the hub's budget of one connection.</summary>
    public int WritesPerSecond { get; set; } = 100;

    /// <summary>REST writes one user may send at once after a quiet spell.</summary>
    public int WriteBurst { get; set; } = 200;

    /// <summary>REST reads (GET, HEAD, OPTIONS) of one user refilled per second: looser than writes, which all queue for one writer.</summary>
    public int ReadsPerSecond { get; set; } = 200;

    /// <summary>REST reads one user may send at once.</summary>
    public int ReadBurst { get; set; } = 400;

    /// <summary>
    /// Connection attempts of one client address refilled per second: every negotiate and every request that opens a
    /// WebSocket or an SSE stream takes one (so a WebSocket connection takes two); long-polling polls and sends take none.
    /// </summary>
    public int ConnectsPerSecond { get; set; } = 20;

    /// <summary>Connection attempts one address may make at once: room for a user's <c>Limits:MaxConnectionsPerUser</c> (100) WebSockets.</summary>
    public int ConnectBurst { get; set; } = 200;
}

internal sealed class RateLimitOptionsValidator : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var failures = new List<string>();
        Check(failures, "Writes", options.WritesPerSecond, options.WriteBurst, "100 and 200");
        Check(failures, "Reads", options.ReadsPerSecond, options.ReadBurst, "200 and 400");
        Check(failures, "Connects", options.ConnectsPerSecond, options.ConnectBurst, "20 and 200");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(List<string> failures, string kind, int perSecond, int burst, string example)
    {
        var singular = kind[..^1];
        if (perSecond < 0 || (perSecond > 0 && burst < 1))
        {
            failures.Add($"{RateLimitOptions.SectionName}:{kind}PerSecond must be 0 (no limit) or positive with "
                + $"{RateLimitOptions.SectionName}:{singular}Burst at least 1 (e.g. {example}), not {perSecond} and {burst}");
        }
    }
}
