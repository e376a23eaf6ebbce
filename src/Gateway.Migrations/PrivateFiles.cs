namespace Gateway.Migrations;

/// <summary>
/// Folders and files only their owner may use: folders 0700, files 0600. Unix only; on Windows a new file inherits
/// its folder's access list and these calls only create.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Every permission of the file's group and of others.</summary>
    public const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates the folder and its missing parents, mode 0700; a folder that exists is left as it is.</summary>
    public static void CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, FolderMode);
        }
    }

    /// <summary>Options of a <see cref="FileStream"/> that creates a new file, mode 0600, and fails if it exists.</summary>
    public static FileStreamOptions CreateNew(FileAccess access = FileAccess.Write)
    {
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = access };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        return options;
    }

    /// <summary>Creates an empty file, mode 0600, unless one exists. True when it created it.</summary>
    public static bool CreateEmptyFile(string path)
    {
        try
        {
            using var stream = new FileStream(path, CreateNew());
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    /// <summary>The mode of an existing file or folder; null on Windows or when there is none.</summary>
    public static UnixFileMode? ModeOf(string path) =>
        OperatingSystem.IsWindows() || !Path.Exists(path) ? null : File.GetUnixFileMode(path);

    /// <summary>
    /// Takes every permission of the group and of others away from an existing file. Returns the mode it had when
    /// it changed it; null when there was nothing to take or it could not (no file, Windows, read-only, another user's).
    /// </summary>
    public static UnixFileMode? RestrictToOwner(string path)
    {
        if (OperatingSystem.IsWindows() || ModeOf(path) is not { } mode || (mode & GroupOrOthers) == 0)
        {
            return null;
        }

        try
        {
            File.SetUnixFileMode(path, mode & ~GroupOrOthers);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // A read-only file system, or a file of another user: nothing to tighten here; a file the gateway cannot
            // write is refused at start with what to check (StartupMigration's write probe).
            return null;
        }

        return mode;
    }

    /// <summary>The mode as <c>chmod</c> takes it, e.g. <c>0644</c>.</summary>
    public static string Octal(UnixFileMode mode) =>
        "0" + Convert.ToString((int)mode & 0x1FF, 8).PadLeft(3, '0');
}
