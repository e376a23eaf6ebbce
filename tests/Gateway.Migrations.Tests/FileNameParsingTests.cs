using System.Security.Cryptography;
using System.Text;
using Gateway.Testing;

namespace Gateway.Migrations.Tests;

/// <summary>File names and checksums, read exactly as sqlx reads them.</summary>
public sealed class FileNameParsingTests
{
    [Theory]
    [InlineData("20250115010000_create_tasks.up.sql", 20250115010000, "create tasks", MigrationKind.ReversibleUp)]
    [InlineData("20250115010000_create_tasks.down.sql", 20250115010000, "create tasks", MigrationKind.ReversibleDown)]
    [InlineData("20250115010000_create_tasks.sql", 20250115010000, "create tasks", MigrationKind.Simple)]
    [InlineData("20250115010200_create_workflow_tasks.up.sql", 20250115010200, "create workflow tasks", MigrationKind.ReversibleUp)]
    [InlineData("1_a.sql", 1, "a", MigrationKind.Simple)]
    [InlineData("0042_add index_now.sql", 42, "add index now", MigrationKind.Simple)]
    public void Parses_version_description_and_kind_like_sqlx(string fileName, long version, string description, MigrationKind kind)
    {
        var parsed = MigrationFile.ParseFileName(fileName);

        Assert.Equal((version, description, kind), parsed);
    }

    [Theory]
    [InlineData("README.md")]
    [InlineData("20250115010000.sql")]
    [InlineData("20250115010000_create_tasks.up.sql.bak")]
    [InlineData("20250115010000_notes.txt")]
    [InlineData("20250115010000_create_tasks.SQL")]
    public void Skips_files_without_an_underscore_or_not_ending_in_sql(string fileName)
    {
        Assert.Null(MigrationFile.ParseFileName(fileName));
    }

    [Theory]
    [InlineData("abc_foo.sql")]
    [InlineData("_foo.sql")]
    [InlineData("2025a_foo.up.sql")]
    [InlineData("99999999999999999999_too_big.sql")]
    [InlineData(" 1_leading_space.sql")]
    public void A_sql_file_with_a_non_integer_version_is_an_error(string fileName)
    {
        var error = Assert.Throws<MigrationException>(() => MigrationFile.ParseFileName(fileName));

        Assert.Equal(MigrationErrorKind.BadFileName, error.Kind);
        Assert.Contains(fileName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_checksum_is_sha384_of_the_raw_bytes_with_bom_and_crlf_kept()
    {
        using var database = new TemporarySqliteFile();
        var path = Path.Combine(database.Directory, "20250101000000_bom_and_crlf.up.sql");
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("-- é\r\nCREATE TABLE x (id INTEGER);\r\n")];
        await File.WriteAllBytesAsync(path, bytes);

        var file = await MigrationFile.ReadAsync(path, CancellationToken.None);

        Assert.NotNull(file);
        Assert.Equal(SHA384.HashData(bytes), file.Checksum);
        Assert.Equal(48, file.Checksum.Length);
        Assert.NotEqual(SHA384.HashData(bytes.AsSpan(3)), file.Checksum);
        Assert.NotEqual(SHA384.HashData(Encoding.UTF8.GetBytes("-- é\nCREATE TABLE x (id INTEGER);\n")), file.Checksum);
        Assert.Equal('\uFEFF', file.Sql[0]);
        Assert.Contains("\r\n", file.Sql, StringComparison.Ordinal);
        Assert.Equal((20250101000000, "bom and crlf", MigrationKind.ReversibleUp), (file.Version, file.Description, file.Kind));
        Assert.False(file.NoTransaction);
    }

    [Fact]
    public async Task A_file_that_starts_with_the_no_transaction_marker_runs_outside_a_transaction()
    {
        using var database = new TemporarySqliteFile();
        var path = Path.Combine(database.Directory, "20250101000000_vacuum.sql");
        await File.WriteAllTextAsync(path, "-- no-transaction\nVACUUM;\n");

        var file = await MigrationFile.ReadAsync(path, CancellationToken.None);

        Assert.True(file!.NoTransaction);
    }

    [Fact]
    public async Task Each_repository_file_has_the_sha384_of_its_bytes()
    {
        foreach (var path in Directory.EnumerateFiles(RepositoryPaths.SqliteMigrations, "*.sql"))
        {
            var file = await MigrationFile.ReadAsync(path, CancellationToken.None);

            Assert.Equal(SHA384.HashData(await File.ReadAllBytesAsync(path)), file!.Checksum);
        }
    }

    [Fact]
    public async Task The_repository_source_loads_as_seven_reversible_migrations_in_order()
    {
        var migrations = await MigrationSource.LoadAsync(RepositoryPaths.SqliteMigrations, CancellationToken.None);

        Assert.Equal(Db.OrchestratorMigrations, migrations.Select(m => (m.Version, m.Description)));
        Assert.All(migrations, m =>
        {
            Assert.True(m.IsReversible);
            Assert.Equal(MigrationKind.ReversibleUp, m.Up.Kind);
            Assert.Equal(MigrationKind.ReversibleDown, m.Down!.Kind);
            Assert.Equal(m.Up.Checksum, m.Checksum);
        });
    }

    [Fact]
    public async Task Files_that_are_not_migrations_are_skipped_by_the_source()
    {
        using var database = new TemporarySqliteFile();
        var source = Path.Combine(database.Directory, "source");
        Directory.CreateDirectory(source);
        await File.WriteAllTextAsync(Path.Combine(source, "README.md"), "# notes\n");
        await File.WriteAllTextAsync(Path.Combine(source, "schema.sql"), "SELECT 1;\n");
        await File.WriteAllTextAsync(Path.Combine(source, "20250101000000_notes.txt"), "notes\n");
        await File.WriteAllTextAsync(Path.Combine(source, "20250101000000_one.sql"), "SELECT 1;\n");
        await File.WriteAllTextAsync(Path.Combine(source, "3_three.sql"), "SELECT 3;\n");

        var migrations = await MigrationSource.LoadAsync(source, CancellationToken.None);

        Assert.Equal([(3L, "three"), (20250101000000L, "one")], migrations.Select(m => (m.Version, m.Description)));
        Assert.All(migrations, m => Assert.False(m.IsReversible));
    }

    [Fact]
    public async Task A_file_that_is_not_utf8_is_refused_with_its_name()
    {
        using var database = new TemporarySqliteFile();
        var path = Path.Combine(database.Directory, "20250101000000_latin1.up.sql");
        await File.WriteAllBytesAsync(path, [.. Encoding.ASCII.GetBytes("-- caf"), 0xE9, (byte)'\n']);

        var error = await Assert.ThrowsAsync<MigrationException>(() => MigrationFile.ReadAsync(path, CancellationToken.None));

        Assert.Equal(MigrationErrorKind.BadFileName, error.Kind);
        Assert.Contains("20250101000000_latin1.up.sql is not valid UTF-8", error.Message, StringComparison.Ordinal);
    }
}
