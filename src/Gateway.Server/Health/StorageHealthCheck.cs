using Gateway.Server.Database;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Server.Health;

/// <summary>Readiness fails while writes fail on a storage fault (full disk, read-only file, I/O error), saying which.</summary>
internal sealed class StorageHealthCheck(StorageHealth storage) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await storage.ProbeAsync(cancellationToken);
        return storage.Current is { } fault
            ? HealthCheckResult.Unhealthy($"{StorageFault.RestCode(fault.Kind)} since {fault.Since:O}: {StorageFault.Describe(fault.Kind)}")
            : HealthCheckResult.Healthy("writes reach the database");
    }
}
