using System.Runtime.InteropServices;

namespace Gateway.Server.Auth;

/// <summary>
/// Who owns a file and who this process runs as: .NET has no API for either. Linux only, through libc's
/// <c>geteuid</c> and <c>statx</c> (glibc 2.28 or later, musl 1.2.5 or later): unlike <c>stat</c>, whose struct
/// differs between architectures and which older glibc exports only as <c>__xstat</c>, <c>statx</c> fills one fixed
/// layout everywhere. Elsewhere the owner is unknown (null).
/// </summary>
internal static partial class UnixFileOwner
{
    private const int AtCurrentDirectory = -100;
    private const uint StatxUid = 0x8;

    /// <summary>The effective user id of this process; null when not on Linux.</summary>
    public static uint? EffectiveUserId => OperatingSystem.IsLinux() ? geteuid() : null;

    /// <summary>The uid owning the file (symbolic links followed); null when not on Linux or when libc has no statx.</summary>
    /// <exception cref="IOException">The file cannot be looked at.</exception>
    public static uint? Of(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        int result;
        Statx buffer;
        try
        {
            result = statx(AtCurrentDirectory, path, 0, StatxUid, out buffer);
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }

        if (result != 0 || (buffer.Mask & StatxUid) == 0)
        {
            throw new IOException($"statx failed on {path} (errno {Marshal.GetLastPInvokeError()})");
        }

        return buffer.Uid;
    }

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int statx(int directoryFd, string path, int flags, uint mask, out Statx buffer);

    /// <summary>Linux's <c>struct statx</c>, 256 bytes; only the fields read here are declared.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Statx
    {
        [FieldOffset(0)]
        public uint Mask;

        [FieldOffset(20)]
        public uint Uid;
    }
}
