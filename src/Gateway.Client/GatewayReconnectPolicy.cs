using Microsoft.AspNetCore.SignalR.Client;

namespace Gateway.Client;

/// <summary>
/// Exponential backoff with jitter: <see cref="InitialDelay"/> doubled after every failed attempt (0.5 s, 1 s, 2 s, 4 s …),
/// each delay moved randomly by up to <see cref="Jitter"/> of itself (so clients dropped together do not come back together),
/// never more than <see cref="MaxDelay"/>; retried forever unless <see cref="MaxAttempts"/> is set.
/// </summary>
/// <remarks>Immutable once set up, so one instance may serve many clients.</remarks>
public sealed class GatewayReconnectPolicy : IRetryPolicy
{
    private readonly TimeSpan _initialDelay = TimeSpan.FromSeconds(0.5);
    private readonly TimeSpan _maxDelay = TimeSpan.FromSeconds(30);
    private readonly int? _maxAttempts;
    private readonly double _jitter = 0.2;

    /// <summary>The delay before the first attempt. Default 0.5 s; zero retries at once.</summary>
    public TimeSpan InitialDelay
    {
        get => _initialDelay;
        init => _initialDelay = value >= TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(InitialDelay), value, "InitialDelay must be zero or positive, e.g. TimeSpan.FromSeconds(0.5)");
    }

    /// <summary>The longest delay between attempts, jitter included. Default 30 s.</summary>
    public TimeSpan MaxDelay
    {
        get => _maxDelay;
        init => _maxDelay = value > TimeSpan.Zero
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxDelay), value, "MaxDelay must be positive, e.g. TimeSpan.FromSeconds(30)");
    }

    /// <summary>Attempts after which the client gives up and raises <see cref="GatewayClient.Closed"/>; null (the default) retries forever.</summary>
    public int? MaxAttempts
    {
        get => _maxAttempts;
        init => _maxAttempts = value is null or >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxAttempts), value, "MaxAttempts must be at least 1, or null to retry forever");
    }

    /// <summary>The fraction (0 to 1) by which each delay may be moved up or down at random. Default 0.2.</summary>
    public double Jitter
    {
        get => _jitter;
        init => _jitter = value is >= 0 and <= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Jitter), value, "Jitter must be between 0 and 1, e.g. 0.2");
    }

    /// <inheritdoc />
    public TimeSpan? NextRetryDelay(RetryContext retryContext)
    {
        ArgumentNullException.ThrowIfNull(retryContext);
        return DelayFor(retryContext.PreviousRetryCount, Random.Shared.NextDouble());
    }

    /// <summary>The delay before the attempt after <paramref name="previousAttempts"/> failed ones; <paramref name="random"/> in [0, 1).</summary>
    internal TimeSpan? DelayFor(long previousAttempts, double random)
    {
        if (previousAttempts < 0 || (MaxAttempts is { } max && previousAttempts >= max))
        {
            return null;
        }

        // 2^40 half-seconds is far past any cap; stopping the exponent there keeps the arithmetic finite.
        var nominal = InitialDelay.TotalMilliseconds * Math.Pow(2, Math.Min(previousAttempts, 40));
        var jittered = Math.Min(nominal, MaxDelay.TotalMilliseconds) * (1 + (Jitter * ((2 * random) - 1)));
        return TimeSpan.FromMilliseconds(Math.Clamp(jittered, 0, MaxDelay.TotalMilliseconds));
    }
}
