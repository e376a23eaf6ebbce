using System.Diagnostics;

namespace Gateway.Testing;

/// <summary>
/// A small tmpfs mounted on a folder, so a test can fill a real file system or make it read-only. Needs root (the test
/// command runs as root, as CI does); unmounted on dispose.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="megabytes"/> MiB on <paramref name="path"/> (an existing, empty folder).</summary>
    public static TmpfsMount On(string path, int megabytes)
    {
        Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0700", "tmpfs", path);
        return new TmpfsMount(path);
    }

    /// <summary>Remounts read-only (<paramref name="readOnly"/>) or read-write, keeping the files.</summary>
    public void Remount(bool readOnly) => Run("mount", "-o", readOnly ? "remount,ro" : "remount,rw", Path);

    /// <summary>Fills the file system with one file until the disk refuses more; returns the file, to delete to give the space back.</summary>
    public string Fill()
    {
        var filler = System.IO.Path.Combine(Path, "filler.bin");
        var chunk = new byte[64 * 1024];
        // Unbuffered: a buffered stream would throw the last ENOSPC again when disposed.
        using var file = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true)
            {
                file.Write(chunk);
                file.Flush(flushToDisk: true);
            }
        }
        catch (IOException)
        {
            // ENOSPC: full. Smaller writes take the last bytes.
            var small = new byte[512];
            try
            {
                while (true)
                {
                    file.Write(small);
                    file.Flush(flushToDisk: true);
                }
            }
            catch (IOException)
            {
            }
        }

        return filler;
    }

    public void Dispose() => Run("umount", "-l", Path);

    private static void Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Trim()} (storage fault tests mount a tmpfs and need root)");
        }
    }
}
