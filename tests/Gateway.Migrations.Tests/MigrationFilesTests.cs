using System.Text.RegularExpressions;
using Gateway.Testing;

namespace Gateway.Migrations.Tests;

/// <summary>The repository's migration files themselves: names, bytes, and each down file undoing its up file.</summary>
public sealed partial class MigrationFilesTests
{
    private static readonly string[] ExpectedFiles =
    [
        "20250115010000_create_tasks.down.sql",
        "20250115010000_create_tasks.up.sql",
        "20250115010100_create_workflows.down.sql",
        "20250115010100_create_workflows.up.sql",
        "20250115010200_create_workflow_tasks.down.sql",
        "20250115010200_create_workflow_tasks.up.sql",
        "20250115010300_create_tool_executions.down.sql",
        "20250115010300_create_tool_executions.up.sql",
        "20250115010400_create_sessions.down.sql",
        "20250115010400_create_sessions.up.sql",
        "20250115010500_create_configurations.down.sql",
        "20250115010500_create_configurations.up.sql",
        "20250115010600_create_triggers.down.sql",
        "20250115010600_create_triggers.up.sql",
    ];

    public static TheoryData<string> UpFiles => Db.FileData(".up.sql");

    [Fact]
    public void The_folder_holds_exactly_the_fourteen_files()
    {
        var files = Directory.EnumerateFiles(RepositoryPaths.SqliteMigrations).Select(Path.GetFileName).Order(StringComparer.Ordinal);

        Assert.Equal(ExpectedFiles, files);
    }

    [Fact]
    public void No_sql_file_has_a_carriage_return_or_a_bom_because_sqlx_checksums_raw_bytes()
    {
        foreach (var path in Directory.EnumerateFiles(RepositoryPaths.SqliteMigrations, "*.sql"))
        {
            var bytes = File.ReadAllBytes(path);

            Assert.False(bytes.Contains((byte)'\r'), $"{Path.GetFileName(path)} contains a CR byte");
            Assert.False(bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]), $"{Path.GetFileName(path)} starts with a BOM");
        }
    }

    [Fact]
    public void Gitattributes_pins_sql_files_to_lf()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, ".gitattributes"));

        Assert.Contains("*.sql text eol=lf", lines);
    }

    [Theory]
    [MemberData(nameof(UpFiles))]
    public void Each_down_file_drops_exactly_what_its_up_file_creates_with_if_exists(string upFile)
    {
        var up = Db.ReadRepositoryFile(upFile);
        var down = Db.ReadRepositoryFile(upFile.Replace(".up.sql", ".down.sql", StringComparison.Ordinal));

        var created = Create().Matches(WithoutComments(up)).Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value}").Order(StringComparer.Ordinal);
        var dropped = Drop().Matches(WithoutComments(down)).Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value}").Order(StringComparer.Ordinal);

        Assert.NotEmpty(created);
        Assert.Equal(created, dropped);
        Assert.DoesNotMatch(@"CREATE\s+(TABLE|INDEX|TRIGGER)\s+(?!IF NOT EXISTS)", WithoutComments(up));
        Assert.DoesNotMatch(@"DROP\s+(TABLE|INDEX|TRIGGER)\s+(?!IF EXISTS)", WithoutComments(down));
    }

    private static string WithoutComments(string sql) => Comment().Replace(sql, string.Empty);

    [GeneratedRegex(@"--[^\n]*")]
    private static partial Regex Comment();

    [GeneratedRegex(@"CREATE\s+(TABLE|INDEX|TRIGGER)\s+IF NOT EXISTS\s+(\w+)")]
    private static partial Regex Create();

    [GeneratedRegex(@"DROP\s+(TABLE|INDEX|TRIGGER)\s+IF EXISTS\s+(\w+)")]
    private static partial Regex Drop();
}
