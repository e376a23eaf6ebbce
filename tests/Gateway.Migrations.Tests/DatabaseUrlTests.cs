using Gateway.Testing;
using Microsoft.Data.Sqlite;

namespace Gateway.Migrations.Tests;

/// <summary>DATABASE_URL in sqlx's form, turned into a Microsoft.Data.Sqlite connection string.</summary>
public sealed class DatabaseUrlTests
{
    [Theory]
    [InlineData("sqlite:orchestrator.db", "orchestrator.db", SqliteOpenMode.ReadWriteCreate)]
    [InlineData("sqlite://data/orchestrator.db?mode=rwc", "data/orchestrator.db", SqliteOpenMode.ReadWriteCreate)]
    [InlineData("sqlite:///var/lib/gateway/orchestrator.db", "/var/lib/gateway/orchestrator.db", SqliteOpenMode.ReadWriteCreate)]
    [InlineData("sqlite:orchestrator.db?mode=ro", "orchestrator.db", SqliteOpenMode.ReadOnly)]
    [InlineData("sqlite://orchestrator.db?mode=rw", "orchestrator.db", SqliteOpenMode.ReadWrite)]
    [InlineData("sqlite:my%20data.db", "my data.db", SqliteOpenMode.ReadWriteCreate)]
    [InlineData("SQLite:orchestrator.db", "orchestrator.db", SqliteOpenMode.ReadWriteCreate)]
    public void Parses_file_urls(string url, string dataSource, SqliteOpenMode mode)
    {
        var builder = SqliteDatabaseUrl.Parse(url);

        Assert.Equal(dataSource, builder.DataSource);
        Assert.Equal(mode, builder.Mode);
        Assert.True(builder.ForeignKeys);
        Assert.False(SqliteDatabaseUrl.IsInMemory(builder));
    }

    [Theory]
    [InlineData("sqlite::memory:")]
    [InlineData("sqlite://:memory:")]
    [InlineData("sqlite:anything.db?mode=memory")]
    public void Parses_memory_urls_to_a_unique_shared_memory_database(string url)
    {
        var first = SqliteDatabaseUrl.Parse(url);
        var second = SqliteDatabaseUrl.Parse(url);

        Assert.True(SqliteDatabaseUrl.IsInMemory(first));
        Assert.Equal(SqliteOpenMode.Memory, first.Mode);
        Assert.Equal(SqliteCacheMode.Shared, first.Cache);
        Assert.StartsWith("gateway-memory-", first.DataSource, StringComparison.Ordinal);
        Assert.NotEqual(first.DataSource, second.DataSource);
    }

    [Theory]
    [InlineData("mysql://localhost/orchestrator", "is not understood")]
    [InlineData("file:orchestrator.db", "is not understood")]
    [InlineData("orchestrator.db", "is not understood")]
    [InlineData("", "is not understood")]
    [InlineData("sqlite:orchestrator.db?journal=wal", "unknown parameter 'journal'")]
    [InlineData("sqlite:orchestrator.db?mode=readonly", "mode must be ro, rw, rwc or memory")]
    [InlineData("sqlite:orchestrator.db?cache=none", "cache must be shared or private")]
    [InlineData("sqlite:", "names no file")]
    [InlineData("sqlite://?mode=rwc", "names no file")]
    public void Refuses_urls_it_does_not_understand(string url, string message)
    {
        var error = Assert.Throws<MigrationException>(() => SqliteDatabaseUrl.Parse(url));

        Assert.Equal(MigrationErrorKind.BadDatabaseUrl, error.Kind);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://gateway:secret@localhost:5432/orchestrator")]
    [InlineData("postgresql://localhost/orchestrator")]
    [InlineData("POSTGRES://localhost/orchestrator")]
    public void Postgres_urls_are_recognised_and_left_to_the_postgres_parser(string url)
    {
        var error = Assert.Throws<MigrationException>(() => SqliteDatabaseUrl.Parse(url));

        Assert.True(SqliteDatabaseUrl.IsPostgres(url));
        Assert.Equal(MigrationErrorKind.UnsupportedDatabase, error.Kind);
        Assert.Contains("not a SQLite one", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_url_opens_a_database_the_runner_migrates_with_foreign_keys_on()
    {
        using var database = new TemporarySqliteFile();
        var builder = SqliteDatabaseUrl.Parse(database.DatabaseUrl);
        builder.Pooling = false;
        await SqliteDatabasePreparation.PrepareAsync(builder, CancellationToken.None);
        using var connection = new SqliteConnection(builder.ConnectionString);

        var applied = await new Migrator(MigrationSet.Orchestrator(RepositoryPaths.SqliteMigrations), new SqliteMigrationStore(connection, Db.SqlxTable))
            .RunAsync(null, CancellationToken.None);

        Assert.Equal(7, applied.Count);
        Assert.Equal(1, Db.Long(connection, "PRAGMA foreign_keys"));
        Assert.Equal("wal", Db.Text(connection, "PRAGMA journal_mode"));
    }

    [Fact]
    public async Task A_memory_url_holds_the_schema_while_a_connection_stays_open()
    {
        var builder = SqliteDatabaseUrl.Parse("sqlite::memory:");
        using var keeper = new SqliteConnection(builder.ConnectionString);
        keeper.Open();
        await Db.Migrator(keeper).RunAsync(null, CancellationToken.None);

        using var other = new SqliteConnection(builder.ConnectionString);
        other.Open();

        Assert.Equal(6, Db.Long(other, $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name <> '{Db.SqlxTable}'"));
    }

    [Fact]
    public void A_read_only_url_refuses_to_create_a_missing_file()
    {
        using var database = new TemporarySqliteFile();
        var builder = SqliteDatabaseUrl.Parse(database.DatabaseUrl + "?mode=ro");
        builder.Pooling = false;
        using var connection = new SqliteConnection(builder.ConnectionString);

        Assert.Throws<SqliteException>(connection.Open);
        Assert.False(File.Exists(database.Path));
    }
}
