using Npgsql;

namespace Gateway.Migrations;

/// <summary>
/// Understands <c>DATABASE_URL</c> in sqlx's PostgreSQL form,
/// <c>postgres://user:password@host:port/database?sslmode=require</c> (<c>postgresql://</c> too), and turns it into an
/// Npgsql connection string. User and password are percent-decoded, as in sqlx. No message this class writes ever
/// holds the password: <see cref="Redact"/> is the form errors and logs show.
/// </summary>
public static class PostgresDatabaseUrl
{
    private static readonly string[] Understood = ["sslmode", "sslrootcert", "application_name", "host", "port", "dbname", "user", "password", "options"];

    public static NpgsqlConnectionStringBuilder Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var shown = Redact(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql"))
        {
            throw Bad(shown, "expected postgres://user:password@host:port/database");
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host.Length == 0 ? "localhost" : uri.Host.Trim('[', ']'),
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
        };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Contains('/', StringComparison.Ordinal))
        {
            throw Bad(shown, $"'{database}' is not a database name (one path segment: postgres://host/database)");
        }

        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..]);
            switch (key)
            {
                case "sslmode":
                    builder.SslMode = value switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw Bad(shown, $"sslmode must be disable, allow, prefer, require, verify-ca or verify-full, not '{value}'"),
                    };
                    break;
                case "sslrootcert":
                    builder.RootCertificate = value;
                    break;
                case "application_name":
                    builder.ApplicationName = value;
                    break;
                case "host":
                    // A directory is a Unix socket, as in libpq and sqlx.
                    builder.Host = value;
                    break;
                case "port":
                    builder.Port = int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
                        ? port
                        : throw Bad(shown, $"port must be a number from 1 to 65535, not '{value}'");
                    break;
                case "dbname":
                    builder.Database = value;
                    break;
                case "user":
                    builder.Username = value;
                    break;
                case "password":
                    builder.Password = value;
                    break;
                case "options":
                    builder.Options = value;
                    break;
                default:
                    throw Bad(shown, $"unknown parameter '{key}' (understood: {string.Join(", ", Understood)})");
            }
        }

        // As libpq and sqlx: the user defaults to PGUSER, then the operating system's user; the database to the user.
        if (string.IsNullOrEmpty(builder.Username))
        {
            builder.Username = Environment.GetEnvironmentVariable("PGUSER") is { Length: > 0 } user ? user : Environment.UserName;
        }

        builder.Database ??= builder.Username;
        return builder;
    }

    /// <summary>The URL with its password replaced by <c>***</c> (in the user info and in a <c>password=</c> parameter).</summary>
    public static string Redact(string url)
    {
        var shown = url;
        var scheme = shown.IndexOf("://", StringComparison.Ordinal);
        var at = shown.LastIndexOf('@');
        if (scheme >= 0 && at > scheme)
        {
            var colon = shown.IndexOf(':', scheme + 3);
            if (colon >= 0 && colon < at)
            {
                shown = shown[..(colon + 1)] + "***" + shown[at..];
            }
        }

        return System.Text.RegularExpressions.Regex.Replace(shown, "([?&]password=)[^&]*", "$1***");
    }

    /// <summary>A connection string as a URL without its password, for messages (host, port, database, user).</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";

    private static MigrationException Bad(string shown, string problem) =>
        new(MigrationErrorKind.BadDatabaseUrl, $"database URL '{shown}': {problem}");
}
