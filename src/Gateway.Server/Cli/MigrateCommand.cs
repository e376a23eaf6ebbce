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
        Description = "Folder of the migration files of one set (the orchestrator's unless --set gateway). "
            + "Default: Migrations:Source / Migrations:GatewaySource, then the migrations shipped with the gateway.",
        Recursive = true,
    };

    private static readonly Option<string?> Set = new("--set")
    {
        Description = "Only this migration set: orchestrator (the seed's schema, in _sqlx_migrations) or gateway (Gateway's own tables, "
            + "in _gateway_migrations). Default: both; run applies orchestrator then gateway, revert goes the other way.",
        Recursive = true,
    };

    private static readonly Option<string?> Orchestrator = new("--orchestrator")
    {
        Description = "Who owns the orchestrator's set: apply (Gateway, the default) or external (the orchestrator's own migrator: "
            + "info shows what the database holds, run, revert and reset leave it alone). Default: Migrations:Orchestrator.",
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
        Set.AcceptOnlyFromAmong([.. GatewayMigrationSets.Names]);
        migrate.Options.Add(Set);
        migrate.Options.Add(IgnoreMissing);
        Orchestrator.AcceptOnlyFromAmong(MigrationOptions.ApplyMode, MigrationOptions.ExternalMode);
        migrate.Options.Add(Orchestrator);

        migrate.Subcommands.Add(Run(output, error));
        migrate.Subcommands.Add(Revert(output, error));
        migrate.Subcommands.Add(Info(output, error));
        migrate.Subcommands.Add(Reset(output, error));
        return migrate;
    }

    private static Command Run(TextWriter output, TextWriter error)
    {
        var target = new Option<long?>("--target-version") { Description = "Apply pending migrations up to and including this version (of one set)." };
        var command = new Command("run", "Apply all pending migrations, each in its own transaction.") { target };
        command.SetAction((parse, cancellationToken) => Execute(parse, error, async (migrators, _) =>
        {
            var targetVersion = parse.GetValue(target);
            if (targetVersion is not null && migrators.Count > 1)
            {
                migrators = [await SetHoldingAsync(migrators, targetVersion.Value, cancellationToken)];
            }

            foreach (var migrator in migrators)
            {
                await GatewayMigrationSets.ValidateAsync(migrator, cancellationToken);
            }

            var count = 0;
            foreach (var migrator in migrators)
            {
                foreach (var migration in await migrator.RunAsync(targetVersion, cancellationToken))
                {
                    await output.WriteLineAsync($"Applied {migration.Version}/migrate {migration.Description}");
                    count++;
                }
            }

            await output.WriteLineAsync(count == 0 ? "Nothing to apply: the database is up to date." : $"{count} migrations applied.");
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
        command.SetAction((parse, cancellationToken) => Execute(parse, error, async (migrators, _) =>
        {
            var floor = parse.GetValue(all) ? 0 : parse.GetValue(target);
            // Newest set first: Gateway's tables go before the orchestrator's schema they sit beside.
            var ordered = migrators.Reverse().ToList();
            foreach (var migrator in ordered)
            {
                await GatewayMigrationSets.ValidateAsync(migrator, cancellationToken);
            }

            if (floor is { } version && version != 0 && ordered.Count > 1)
            {
                // Sets newer than the one holding the target are reverted entirely.
                var holder = await SetHoldingAsync(ordered, version, cancellationToken);
                ordered = ordered.TakeWhile(m => m != holder).Append(holder).ToList();
            }

            var count = 0;
            foreach (var migrator in ordered)
            {
                // By default only the newest applied migration of the newest set moves.
                var setFloor = floor is null ? null : (floor == 0 || migrator != ordered[^1] ? 0 : floor);
                var reverted = await migrator.RevertAsync(setFloor, cancellationToken);
                foreach (var migration in reverted)
                {
                    await output.WriteLineAsync($"Applied {migration.Version}/revert {migration.Description}");
                }

                count += reverted.Count;
                if (floor is null && reverted.Count > 0)
                {
                    break;
                }
            }

            await output.WriteLineAsync(count == 0 ? "Nothing to revert." : $"{count} migrations reverted.");
        }, cancellationToken));
        return command;
    }

    private static Command Info(TextWriter output, TextWriter error)
    {
        var command = new Command("info", "List every migration: applied or pending, checksum, when, how long.");
        command.SetAction((parse, cancellationToken) => Execute(parse, error, async (migrators, external) =>
        {
            var lines = new List<(string Set, MigrationStatus Status)>();
            if (external is not null)
            {
                // What the orchestrator's migrator recorded, as it is: Gateway's files are not its files.
                lines.AddRange((await external.ListAppliedAsync(cancellationToken)).Select(row => (
                    $"{GatewayMigrationSets.Orchestrator} (external)",
                    new MigrationStatus(
                        row.Version,
                        row.Description,
                        row.Success ? MigrationState.External : MigrationState.Failed,
                        null,
                        row.InstalledOn,
                        row.ExecutionTimeNanoseconds >= 0 ? TimeSpan.FromTicks(row.ExecutionTimeNanoseconds / 100) : null))));
            }

            foreach (var migrator in migrators)
            {
                lines.AddRange((await migrator.InfoAsync(cancellationToken)).Select(status => (migrator.Set.Name, status)));
            }

            await output.WriteAsync(MigrationInfoTable.Render(lines));
            if (external is not null)
            {
                await output.WriteLineAsync($"The orchestrator's set is external ({MigrationOptions.SectionName}:Orchestrator={MigrationOptions.ExternalMode}): its own migrator applies it; run, revert and reset leave it alone.");
            }
        }, cancellationToken, readOnly: true));
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

            return Execute(parse, error, async (migrators, _) =>
            {
                foreach (var migrator in migrators)
                {
                    await GatewayMigrationSets.ValidateAsync(migrator, cancellationToken);
                }

                var reverted = 0;
                foreach (var migrator in migrators.Reverse())
                {
                    reverted += (await migrator.RevertAsync(0, cancellationToken)).Count;
                }

                var applied = 0;
                foreach (var migrator in migrators)
                {
                    applied += (await migrator.RunAsync(null, cancellationToken)).Count;
                }

                await output.WriteLineAsync($"{reverted} migrations reverted, {applied} applied.");
            }, cancellationToken);
        });
        return command;
    }

    /// <param name="action">Gets the migrators of the sets Gateway manages, and the orchestrator's bookkeeping when that set is external (else null).</param>
    /// <param name="readOnly">The command only reads (info): an external orchestrator set is shown, not refused.</param>
    private static async Task<int> Execute(
        ParseResult parse,
        TextWriter error,
        Func<IReadOnlyList<Migrator>, IMigrationStore?, Task> action,
        CancellationToken cancellationToken,
        bool readOnly = false)
    {
        var shown = "";
        try
        {
            var configuration = CliConfiguration.Load();
            var database = DatabaseLocation.Resolve(configuration, parse.GetValue(DatabaseUrl));
            shown = database.Shown;
            var options = configuration.GetSection(MigrationOptions.SectionName).Get<MigrationOptions>() ?? new MigrationOptions();
            options.IgnoreMissing |= parse.GetValue(IgnoreMissing);
            options.Orchestrator = parse.GetValue(Orchestrator) ?? options.Orchestrator;
            if (options.OrchestratorProblem is { } problem)
            {
                await error.WriteLineAsync($"error: {problem}");
                return GatewayCommandLine.Usage;
            }

            var source = parse.GetValue(Source);
            // --source alone names the orchestrator's folder, as sqlx's --source does.
            var names = parse.GetValue(Set) is { } set ? [set] : source is not null ? [GatewayMigrationSets.Orchestrator] : GatewayMigrationSets.Names;
            var external = options.OrchestratorIsExternal && names.Contains(GatewayMigrationSets.Orchestrator);
            if (external && !readOnly && names.Count == 1)
            {
                await error.WriteLineAsync(
                    $"error: the orchestrator's set is external ({MigrationOptions.SectionName}:Orchestrator={MigrationOptions.ExternalMode}): "
                    + "the orchestrator's own migrator applies, reverts and records it, Gateway never does; run this with the orchestrator's tool, or use --set gateway");
                return GatewayCommandLine.Failed;
            }

            if (external)
            {
                names = names.Where(name => name != GatewayMigrationSets.Orchestrator).ToList();
            }

            if (!database.IsPostgres)
            {
                foreach (var narrowed in await SqliteDatabasePreparation.PrepareAsync(database.Builder, cancellationToken))
                {
                    await error.WriteLineAsync($"warning: the database file {narrowed}");
                }
            }

            await using var connection = database.CreateConnection();
            var migrators = names
                .Select(name => GatewayMigrationSets.CreateMigrator(
                    connection, GatewayMigrationSets.Create(name, source ?? GatewayMigrationSets.SourceOf(name, options, database.IsPostgres)), options.IgnoreMissing))
                .ToList();
            if (external && !readOnly)
            {
                await error.WriteLineAsync($"note: the orchestrator's set is external ({MigrationOptions.SectionName}:Orchestrator={MigrationOptions.ExternalMode}); only Gateway's own set is changed");
            }

            await action(migrators, external ? GatewayMigrationSets.CreateStore(connection, MigrationSet.SqlxBookkeepingTable) : null);
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
        catch (Exception exception) when (exception is Npgsql.NpgsqlException or TimeoutException)
        {
            // Npgsql's messages name host and port, never the password.
            await error.WriteLineAsync($"error: database {shown}: {exception.Message.ReplaceLineEndings(" ")}");
            return GatewayCommandLine.Failed;
        }
    }

    /// <summary>The set that has a migration with this version.</summary>
    private static async Task<Migrator> SetHoldingAsync(IReadOnlyList<Migrator> migrators, long version, CancellationToken cancellationToken)
    {
        foreach (var migrator in migrators)
        {
            if ((await migrator.InfoAsync(cancellationToken)).Any(line => line.Version == version))
            {
                return migrator;
            }
        }

        throw new MigrationException(MigrationErrorKind.UnknownTargetVersion, $"target version {version} is not a migration of any set");
    }
}

/// <summary>Renders <c>migrate info</c> as an aligned text table.</summary>
internal static class MigrationInfoTable
{
    public static string Render(IReadOnlyList<(string Set, MigrationStatus Status)> entries)
    {
        string[] header = ["Set", "Version", "Description", "State", "Checksum", "Applied at (UTC)", "Duration"];
        var rows = entries.Select(entry => (entry.Set, l: entry.Status)).Select(e => new[]
        {
            e.Set,
            e.l.Version.ToString(CultureInfo.InvariantCulture),
            e.l.Description,
            e.l.State.ToString().ToLowerInvariant(),
            e.l.ChecksumMatches switch { true => "ok", false => "changed", null => "-" },
            e.l.AppliedAt ?? "-",
            e.l.Duration is { } d ? FormatDuration(d) : "-",
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
