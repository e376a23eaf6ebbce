using System.Security.Cryptography;

namespace Gateway.Migrations;

public enum MigrationKind
{
    /// <summary>A plain <c>.sql</c> file: applied, never reverted.</summary>
    Simple,
    ReversibleUp,
    ReversibleDown,
}

/// <summary>One migration file, read and checksummed exactly as sqlx does.</summary>
public sealed record MigrationFile(
    long Version,
    string Description,
    MigrationKind Kind,
    string FileName,
    string Sql,
    byte[] Checksum,
    bool NoTransaction)
{
    private const string NoTransactionMarker = "-- no-transaction";
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Parses a file name as sqlx does: split at the first '_'; the part before is the version; the rest,
    /// less its suffix and with '_' turned into spaces, is the description. Returns null for files that
    /// sqlx skips (no '_' or not ending in .sql); throws for a .sql file whose version is not an integer.
    /// </summary>
    public static (long Version, string Description, MigrationKind Kind)? ParseFileName(string fileName)
    {
        var underscore = fileName.IndexOf('_', StringComparison.Ordinal);
        if (underscore < 0 || !fileName.EndsWith(".sql", StringComparison.Ordinal))
        {
            return null;
        }

        var versionText = fileName[..underscore];
        var rest = fileName[(underscore + 1)..];
        if (versionText.Length == 0
            || !versionText.All(char.IsAsciiDigit)
            || !long.TryParse(versionText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version))
        {
            throw new MigrationException(
                MigrationErrorKind.BadFileName,
                $"error parsing migration filename \"{fileName}\"; expected an integer version prefix (e.g. `20250115010000_create_tasks.up.sql`)");
        }

        var (kind, suffix) = rest switch
        {
            _ when rest.EndsWith(".up.sql", StringComparison.Ordinal) => (MigrationKind.ReversibleUp, ".up.sql"),
            _ when rest.EndsWith(".down.sql", StringComparison.Ordinal) => (MigrationKind.ReversibleDown, ".down.sql"),
            _ => (MigrationKind.Simple, ".sql"),
        };
        var description = rest[..^suffix.Length].Replace('_', ' ');
        return (version, description, kind);
    }

    /// <summary>Reads a file; the checksum is SHA-384 of its raw bytes (no BOM stripping, no newline changes).</summary>
    public static async Task<MigrationFile?> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var fileName = Path.GetFileName(path);
        if (ParseFileName(fileName) is not { } parsed)
        {
            return null;
        }

        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        // sqlx reads the file as UTF-8 text and executes that text; a BOM stays in both the SQL and the checksum.
        string sql;
        try
        {
            sql = StrictUtf8.GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException)
        {
            throw new MigrationException(MigrationErrorKind.BadFileName, $"{fileName} is not valid UTF-8 text");
        }

        return new MigrationFile(
            parsed.Version,
            parsed.Description,
            parsed.Kind,
            fileName,
            sql,
            SHA384.HashData(bytes),
            sql.StartsWith(NoTransactionMarker, StringComparison.Ordinal));
    }
}
