using System.Runtime.InteropServices;

namespace Gateway.Bench;

internal sealed record MachineInfo(int Cores, string Cpu, double MemoryGiB, string DotNet, string Os, string LoadAtStart, DateTime StartedUtc)
{
    public static MachineInfo Read()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var memory = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))?
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1] ?? "0";
        var cores = File.ReadLines("/proc/cpuinfo").Count(l => l.StartsWith("processor", StringComparison.Ordinal));
        return new MachineInfo(
            cores,
            cpu,
            Math.Round(long.Parse(memory, System.Globalization.CultureInfo.InvariantCulture) / 1024.0 / 1024.0, 1),
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.OSDescription,
            File.ReadAllText("/proc/loadavg").Trim(),
            DateTime.UtcNow);
    }
}
