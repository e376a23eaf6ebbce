using System.CommandLine;
using System.Globalization;
using Gateway.Migrations;
using Gateway.Server.Database;
using Microsoft.Data.Sqlite;

namespace Gateway.Server.Cli;

/// <summary><c>migrate run | revert | info | reset</c>, with sqlx-cli's flags and bookkeeping.</summary>
internal static class MigrateCommand
{
    private static readonly Option<string?> DatabaseUrl = new("--database-url", "-D")
    {
        Description = "Database URL in sqlx's form (sqlite:orchestrator.db, sqlite://path?mode=rwc, sqlite::memory:). "
            + "Default: DATABASE_URL, then Database:Url / Database:DataDirectory from appsettings.json.",
        Recursive = true,
    };

    private static readonly Option<string?> Source = new("--source")
    {
        Description = "Folder of the migration files. Default: Migrations:Source, then the migrations shipped with the gateway.",
        Recursive = true,
    };

    private static readonly Option<bool> IgnoreMissing = new("--ignore-missing")
    {
        Description = "Accept versions applied to the database that no file has (as sqlx).",
        Recursive = true,
    };

    public static Command Create(TextWriter output, TextWriter error)
    {
        var migrate = new Command("migrate", "Apply, revert and inspect the orchestrator's schema migrations (sqlx-compatible).");
        migrate.Options.Add(DatabaseUrl);
        migrate.Options.Add(Source);
        migrate.Options.Add(IgnoreMissing);
        migrate.Subcommands.Add(Run(output, error));
        migrate.Subcommands.Add(Revert(output, error));
        migrate.Subcommands.Add(Info(output, error));
        migrate.Subcommands.Add(Reset(output, error));
        return migrate;
    }

    private static Command Run(TextWriter output, TextWriter error)
    {
        var target = new Option<long?>("--target-version") { Description = "Apply pending migrations up to and including this version." };
        var command = new Command("run", "Apply all pending migrations, each in its own transaction.") { target };
        command.SetAction((parse, cancellationToken) => Execute(parse, error, async migrator =>
        {
            var applied = await migrator.RunAsync(parse.GetValue(target), cancellationToken);
            foreach (var migration in applied)
            {
                await output.WriteLineAsync($"Applied {migration.Version}/migrate {migration.Description}");
            }

            await output.WriteLineAsync(applied.Count == 0 ? "Nothing to apply: the database is up to date." : $"{applied.Count} migrations applied.");
        }, cancellationToken));
        return command;
    }

    private static Command Revert(TextWriter output, TextWriter error)
    {
        var target = new Option<long?>("--target-version") { Description = "Revert every applied migration newer than this version (0 reverts all)." };
        var all = new Option<bool>("--all") { Description = "Revert every applied migration." };
        var command = new Command("revert", "Revert the latest applied migration (or down to --target-version, or --all).") { target, all };
        command.Validators.Add(result =>
        {
            if (result.GetValue(all) && result.GetValue(target) is not null)
            {
                result.AddError("--all and --target-version cannot be used together");
            }
        });
        command.SetAction((parse, cancellationToken) => Execute(parse, error, async migrator =>
        {
            var floor = parse.GetValue(all) ? 0 : parse.GetValue(target);
            var reverted = await migrator.RevertAsync(floor, cancellationToken);
            foreach (var migration in reverted)
            {
                await output.WriteLineAsync($"Applied {migration.Version}/revert {migration.Description}");
            }

            await output.WriteLineAsync(reverted.Count == 0 ? "Nothing to revert." : $"{reverted.Count} migrations reverted.");
        }, cancellationToken));
        return command;
    }

    private static Command Info(TextWriter output, TextWriter error)
    {
        var command = new Command("info", "List every migration: applied or pending, checksum, when, how long.");
        command.SetAction((parse, cancellationToken) => Execute(parse, error, async migrator =>
        {
            var lines = await migrator.InfoAsync(cancellationToken);
            await output.WriteAsync(MigrationInfoTable.Render(lines));
        }, cancellationToken));
        return command;
    }

    private static Command Reset(TextWriter output, TextWriter error)
    {
        var yes = new Option<bool>("--yes", "-y") { Description = "Confirm: reset drops every table of the schema with its data." };
        var command = new Command("reset", "Revert every migration, then apply them all again.") { yes };
        command.SetAction((parse, cancellationToken) =>
        {
            if (!parse.GetValue(yes))
            {
                error.WriteLine("error: reset drops every table of the orchestrator's schema and its data; pass --yes to confirm");
                return Task.FromResult(GatewayCommandLine.Usage);
            }

            return Execute(parse, error, async migrator =>
            {
                var (reverted, applied) = await migrator.ResetAsync(cancellationToken);
                await output.WriteLineAsync($"{reverted.Count} migrations reverted, {applied.Count} applied.");
            }, cancellationToken);
        });
        return command;
    }

    private static async Task<int> Execute(
        ParseResult parse, TextWriter error, Func<Migrator, Task> action, CancellationToken cancellationToken)
    {
        try
        {
            var configuration = CliConfiguration.Load();
            var database = DatabaseLocation.Resolve(configuration, parse.GetValue(DatabaseUrl));
            var migrationOptions = configuration.GetSection(MigrationOptions.SectionName).Get<MigrationOptions>() ?? new MigrationOptions();
            var source = parse.GetValue(Source) ?? migrationOptions.ResolvedSource;
            await SqliteDatabasePreparation.PrepareAsync(database.Builder, cancellationToken);
            await using var connection = new SqliteConnection(database.ConnectionString);
            var migrator = OrchestratorMigrations.CreateMigrator(connection, source, parse.GetValue(IgnoreMissing) || migrationOptions.IgnoreMissing);
            await action(migrator);
            return GatewayCommandLine.Ok;
        }
        catch (MigrationException exception)
        {
            await error.WriteLineAsync($"error: {exception.Message}");
            return GatewayCommandLine.Failed;
        }
        catch (SqliteException exception)
        {
            await error.WriteLineAsync($"error: database: {exception.Message.ReplaceLineEndings(" ")}");
            return GatewayCommandLine.Failed;
        }
    }
}

/// <summary>Renders <c>migrate info</c> as an aligned text table.</summary>
internal static class MigrationInfoTable
{
    public static string Render(IReadOnlyList<MigrationStatus> lines)
    {
        string[] header = ["Version", "Description", "State", "Checksum", "Applied at (UTC)", "Duration"];
        var rows = lines.Select(l => new[]
        {
            l.Version.ToString(CultureInfo.InvariantCulture),
            l.Description,
            l.State.ToString().ToLowerInvariant(),
            l.ChecksumMatches switch { true => "ok", false => "changed", null => "-" },
            l.AppliedAt ?? "-",
            l.Duration is { } d ? FormatDuration(d) : "-",
        }).ToList();
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new System.Text.StringBuilder();
        foreach (var row in rows.Prepend(header))
        {
            text.AppendLine(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }

        return text.ToString();
    }

    private static string FormatDuration(TimeSpan duration) =>
        duration.TotalMilliseconds >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0.###} ms")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMicroseconds:0} µs");
}
