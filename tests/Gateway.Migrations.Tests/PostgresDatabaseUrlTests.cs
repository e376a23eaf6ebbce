using Npgsql;

namespace Gateway.Migrations.Tests;

/// <summary>DATABASE_URL in sqlx's PostgreSQL form, turned into an Npgsql connection string; the password never shown.</summary>
public sealed class PostgresDatabaseUrlTests
{
    [Theory]
    [InlineData("postgres://gateway:secret@db.internal:6543/orchestrator", "db.internal", 6543, "gateway", "secret", "orchestrator")]
    [InlineData("postgresql://gateway:secret@db.internal/orchestrator", "db.internal", 5432, "gateway", "secret", "orchestrator")]
    [InlineData("postgres://gateway@127.0.0.1:55432/orchestrator", "127.0.0.1", 55432, "gateway", null, "orchestrator")]
    [InlineData("postgres://us%40er:p%40ss%3Aw%2Ford@localhost/db", "localhost", 5432, "us@er", "p@ss:w/ord", "db")]
    [InlineData("postgres://gateway:secret@localhost", "localhost", 5432, "gateway", "secret", "gateway")]
    [InlineData("postgres://gateway@localhost/x?host=/var/run/postgresql&port=5433&dbname=other", "/var/run/postgresql", 5433, "gateway", null, "other")]
    public void Parses_sqlx_urls(string url, string host, int port, string user, string? password, string database)
    {
        var builder = PostgresDatabaseUrl.Parse(url);

        Assert.Equal((host, port, user, password, database), (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database));
    }

    [Fact]
    public void Understands_ssl_and_application_settings()
    {
        var builder = PostgresDatabaseUrl.Parse("postgres://u@h/d?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=gw&options=-c%20statement_timeout%3D5s");

        Assert.Equal(SslMode.VerifyFull, builder.SslMode);
        Assert.Equal("/etc/ca.pem", builder.RootCertificate);
        Assert.Equal("gw", builder.ApplicationName);
        Assert.Equal("-c statement_timeout=5s", builder.Options);
    }

    [Theory]
    [InlineData("postgres://gateway:hunter2@localhost/db?journal=wal", "unknown parameter 'journal'")]
    [InlineData("postgres://gateway:hunter2@localhost/db?sslmode=always", "sslmode must be")]
    [InlineData("postgres://gateway:hunter2@localhost/db?port=http", "port must be a number")]
    [InlineData("postgres://gateway:hunter2@localhost/a/b", "is not a database name")]
    [InlineData("postgres://gateway:hunter2@localhost/db?password=hunter2&sslmode=x", "sslmode must be")]
    public void Refuses_what_it_does_not_understand_without_showing_the_password(string url, string message)
    {
        var error = Assert.Throws<MigrationException>(() => PostgresDatabaseUrl.Parse(url));

        Assert.Equal(MigrationErrorKind.BadDatabaseUrl, error.Kind);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://gateway:hunter2@localhost/db", "postgres://gateway:***@localhost/db")]
    [InlineData("postgres://gateway@localhost/db?password=hunter2&sslmode=require", "postgres://gateway@localhost/db?password=***&sslmode=require")]
    [InlineData("postgres://localhost/db", "postgres://localhost/db")]
    public void Redacts_the_password(string url, string shown) => Assert.Equal(shown, PostgresDatabaseUrl.Redact(url));

    [Fact]
    public void The_lock_key_is_sqlxs()
    {
        // sqlx-postgres migrate.rs: 0x3d32ad9e * crc32(current_database()); for "postgres" (SCHEMA-NOTES).
        Assert.Equal(368907709894077238L, PostgresMigrationStore.LockKeyOf("postgres"));
    }
}
