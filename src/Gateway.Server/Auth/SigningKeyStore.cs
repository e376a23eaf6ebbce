using System.Security.Cryptography;
using System.Text;
using Gateway.Migrations;
using Gateway.Server.Database;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Server.Auth;

/// <summary>Where the key came from, for the start-up log.</summary>
public enum SigningKeySource
{
    /// <summary>Auth:SigningKey.</summary>
    Configured,

    /// <summary>An existing key file.</summary>
    KeyFile,

    /// <summary>A key file this process has just created.</summary>
    CreatedKeyFile,
}

/// <summary>
/// The HS256 key of the gateway's own tokens: the UTF-8 bytes of Auth:SigningKey when it is set, otherwise the
/// key file <c>{Database:DataDirectory}/jwt-signing.key</c> (relative to the working directory), created on first
/// use with 64 random bytes, base64-encoded, mode 0600 on Unix (in a folder created 0700). A key file that group or
/// others have any permission on, or (on Linux) that another user owns, is refused, as ssh refuses such a private
/// key: it may have been read, or written by someone else. The server and <c>token create</c> resolve it alike, so a
/// token minted by the CLI validates on a server started from the same working directory and configuration. Resolved
/// once, on first use; safe to share between threads.
/// </summary>
public sealed class SigningKeyStore
{
    public const string KeyFileName = "jwt-signing.key";

    /// <summary>Size of a created key: 512 bits, the block size of HMAC-SHA256.</summary>
    public const int CreatedKeyBytes = 64;

    private readonly string _configuredKey;
    private readonly Lazy<(SymmetricSecurityKey Key, SigningKeySource Source)> _resolved;

    public SigningKeyStore(AuthOptions auth, DatabaseOptions database)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(database);
        _configuredKey = auth.SigningKey;
        KeyFilePath = Path.GetFullPath(Path.Combine(database.DataDirectory, KeyFileName));
        _resolved = new(Resolve, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The absolute path of the key file (used only when Auth:SigningKey is empty).</summary>
    public string KeyFilePath { get; }

    /// <exception cref="SigningKeyException">The key is too short, the key file is unreadable or not a key, or it cannot be created.</exception>
    public SymmetricSecurityKey Key => _resolved.Value.Key;

    /// <summary>Where <see cref="Key"/> came from; resolves the key like <see cref="Key"/>.</summary>
    public SigningKeySource Source => _resolved.Value.Source;

    private (SymmetricSecurityKey, SigningKeySource) Resolve()
    {
        if (_configuredKey.Length > 0)
        {
            var bytes = Encoding.UTF8.GetBytes(_configuredKey);
            return bytes.Length >= AuthOptions.MinimumSigningKeyBytes
                ? (new SymmetricSecurityKey(bytes), SigningKeySource.Configured)
                : throw new SigningKeyException(
                    $"Auth:SigningKey is {bytes.Length} bytes long; it must be at least {AuthOptions.MinimumSigningKeyBytes} bytes (UTF-8), "
                    + "e.g. the output of `openssl rand -base64 48`, or empty to use the key file");
        }

        if (File.Exists(KeyFilePath))
        {
            return (new SymmetricSecurityKey(ReadKeyFile()), SigningKeySource.KeyFile);
        }

        return CreateKeyFile()
            ? (new SymmetricSecurityKey(ReadKeyFile()), SigningKeySource.CreatedKeyFile)
            : (new SymmetricSecurityKey(ReadKeyFile()), SigningKeySource.KeyFile);
    }

    private byte[] ReadKeyFile()
    {
        CheckOwnerOnly();
        string text;
        try
        {
            text = File.ReadAllText(KeyFilePath);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SigningKeyException($"Cannot read the signing key file {KeyFilePath}: {exception.Message}", exception);
        }

        byte[]? key = null;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
        }

        return key is { Length: >= AuthOptions.MinimumSigningKeyBytes }
            ? key
            : throw new SigningKeyException(
                $"The signing key file {KeyFilePath} does not hold a base64 key of at least {AuthOptions.MinimumSigningKeyBytes} bytes; "
                + "delete it to have a new one created (tokens signed with the old key stop being accepted), or set Auth:SigningKey");
    }

    /// <exception cref="SigningKeyException">Another user owns the key file, or its group or others have a permission on it.</exception>
    private void CheckOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        UnixFileMode mode;
        uint? owner;
        try
        {
            mode = File.GetUnixFileMode(KeyFilePath);
            owner = UnixFileOwner.Of(KeyFilePath);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SigningKeyException($"Cannot read the signing key file {KeyFilePath}: {exception.Message}", exception);
        }

        var user = UnixFileOwner.EffectiveUserId;
        var foreign = owner is not null && owner != user;
        var open = (mode & PrivateFiles.GroupOrOthers) != 0;
        if (!foreign && !open)
        {
            return;
        }

        var problems = new List<string>();
        var commands = new List<string>();
        if (foreign)
        {
            problems.Add($"is owned by uid {owner}, not by {Environment.UserName} (uid {user}) whom the gateway runs as");
            commands.Add($"chown {Environment.UserName} {KeyFilePath}");
        }

        if (open)
        {
            problems.Add($"is mode {PrivateFiles.Octal(mode)}, so others than its owner may read or replace it");
            commands.Add($"chmod 600 {KeyFilePath}");
        }

        throw new SigningKeyException(
            $"The signing key file {KeyFilePath} {string.Join(" and ", problems)}. Run `{string.Join(" && ", commands)}` if the key is yours and "
            + "was never exposed; otherwise delete the file to have a new key created (tokens signed with the old key stop being accepted), "
            + "or set Auth:SigningKey");
    }

    /// <summary>
    /// Writes a new key to a temporary file and links it into place only if no key file exists yet, so two
    /// processes starting together agree on one key and no reader ever sees a half-written file.
    /// </summary>
    /// <returns>False when another process created the key file first.</returns>
    private bool CreateKeyFile()
    {
        var directory = Path.GetDirectoryName(KeyFilePath)!;
        var temporary = Path.Combine(directory, $".{KeyFileName}.{Guid.NewGuid():N}.tmp");
        try
        {
            PrivateFiles.CreateFolder(directory);
            using (var stream = new FileStream(temporary, PrivateFiles.CreateNew()))
            {
                stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(CreatedKeyBytes)) + "\n"));
                stream.Flush(flushToDisk: true);
            }

            try
            {
                File.Move(temporary, KeyFilePath, overwrite: false);
                return true;
            }
            catch (IOException) when (File.Exists(KeyFilePath))
            {
                return false;
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new SigningKeyException(
                $"Cannot create the signing key file {KeyFilePath}: {exception.Message}. "
                + $"Make {directory} writable (or set Database:DataDirectory), or set Auth:SigningKey to a secret of at least {AuthOptions.MinimumSigningKeyBytes} bytes",
                exception);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
