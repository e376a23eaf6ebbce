using System.Diagnostics;
using System.Text;

namespace Gateway.Testing;

/// <summary>The built gateway executable, run as a user runs it: <c>dotnet Gateway.Server.dll ...</c> in its own process.</summary>
public static class GatewayExecutable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The server's own build output, same configuration as the tests (it holds appsettings.json and migrations/).</summary>
    public static string DllPath
    {
        get
        {
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var configuration = framework.Parent!.Name;
            var path = Path.Combine(RepositoryPaths.Root, "src", "Gateway.Server", "bin", configuration, framework.Name, "Gateway.Server.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build the solution first", path);
        }
    }

    public static ProcessStartInfo StartInfo(string workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A DATABASE_URL or ASPNETCORE_ setting from the developer's shell must not leak into a test.
        info.Environment.Remove("DATABASE_URL");
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        return info;
    }

    /// <summary>Runs a command to its end and returns exit code, stdout and stderr.</summary>
    public static async Task<CommandResult> RunAsync(
        string workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        using var process = Process.Start(StartInfo(workingDirectory, environment, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"gateway {string.Join(' ', args)} did not finish in {CommandTimeout}");
        }

        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }
}

public sealed record CommandResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => new StringBuilder()
        .Append("exit ").Append(ExitCode).AppendLine()
        .Append("stdout: ").AppendLine(Output)
        .Append("stderr: ").AppendLine(Error)
        .ToString();
}
