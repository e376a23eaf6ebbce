namespace Gateway.Migrations;

/// <summary>Options of a migration command, named after sqlx-cli's flags.</summary>
public sealed record MigratorOptions
{
    /// <summary>Accept applied versions that no file has (an orchestrator database with more tables than Gateway knows).</summary>
    public bool IgnoreMissing { get; init; }
}

/// <summary>
/// Runs, reverts and reports one migration set, with sqlx's rules. Every command first validates the whole
/// set against the database and changes nothing when it refuses.
/// </summary>
public sealed class Migrator
{
    private readonly MigrationSet _set;
    private readonly IMigrationStore _store;
    private readonly MigratorOptions _options;

    public MigrationSet Set => _set;

    public Migrator(MigrationSet set, IMigrationStore store, MigratorOptions? options = null)
    {
        _set = set;
        _store = store;
        _options = options ?? new MigratorOptions();
    }

    public async Task<IReadOnlyList<MigrationStatus>> InfoAsync(CancellationToken cancellationToken)
    {
        var migrations = await MigrationSource.LoadAsync(_set.SourceDirectory, cancellationToken);
        var applied = (await _store.ListAppliedAsync(cancellationToken)).ToDictionary(a => a.Version);
        var lines = new List<MigrationStatus>();
        foreach (var migration in migrations)
        {
            if (applied.Remove(migration.Version, out var row))
            {
                lines.Add(new MigrationStatus(
                    migration.Version,
                    migration.Description,
                    row.Success ? MigrationState.Applied : MigrationState.Failed,
                    row.Checksum.AsSpan().SequenceEqual(migration.Checksum),
                    row.InstalledOn,
                    row.ExecutionTimeNanoseconds >= 0 ? TimeSpan.FromTicks(row.ExecutionTimeNanoseconds / 100) : null));
            }
            else
            {
                lines.Add(new MigrationStatus(migration.Version, migration.Description, MigrationState.Pending, null, null, null));
            }
        }

        lines.AddRange(applied.Values.Select(row => new MigrationStatus(
            row.Version,
            row.Description,
            row.Success ? MigrationState.Missing : MigrationState.Failed,
            null,
            row.InstalledOn,
            row.ExecutionTimeNanoseconds >= 0 ? TimeSpan.FromTicks(row.ExecutionTimeNanoseconds / 100) : null)));
        return lines.OrderBy(l => l.Version).ToList();
    }

    /// <summary>
    /// Refuses (throws <see cref="MigrationException"/>) when the database is dirty, an applied file changed, or
    /// an applied version has no file (unless ignore-missing). Returns the set and its applied rows.
    /// </summary>
    public async Task<(IReadOnlyList<Migration> Migrations, IReadOnlyDictionary<long, AppliedMigration> Applied)> ValidateAsync(
        CancellationToken cancellationToken)
    {
        var migrations = await MigrationSource.LoadAsync(_set.SourceDirectory, cancellationToken);
        var appliedRows = await _store.ListAppliedAsync(cancellationToken);
        var byVersion = migrations.ToDictionary(m => m.Version);

        if (appliedRows.FirstOrDefault(a => !a.Success) is { } dirty)
        {
            throw new MigrationException(
                MigrationErrorKind.Dirty,
                $"migration {dirty.Version} ({dirty.Description}) is partially applied (success = false in {_set.BookkeepingTable}); repair the database by hand, then delete that row");
        }

        foreach (var row in appliedRows)
        {
            if (!byVersion.TryGetValue(row.Version, out var migration))
            {
                if (!_options.IgnoreMissing)
                {
                    throw new MigrationException(
                        MigrationErrorKind.VersionMissing,
                        $"migration {row.Version} ({row.Description}) was previously applied but is missing in the resolved migrations ({_set.SourceDirectory}); pass --ignore-missing to accept it");
                }

                continue;
            }

            if (!row.Checksum.AsSpan().SequenceEqual(migration.Checksum))
            {
                throw new MigrationException(
                    MigrationErrorKind.ChecksumMismatch,
                    $"migration {row.Version} ({migration.Up.FileName}) was previously applied but has been modified (its checksum differs from the one in {_set.BookkeepingTable})");
            }
        }

        return (migrations, appliedRows.ToDictionary(a => a.Version));
    }

    /// <summary>Applies pending migrations in version order, up to and including <paramref name="targetVersion"/> when given.</summary>
    /// <returns>The migrations this call applied.</returns>
    public Task<IReadOnlyList<Migration>> RunAsync(long? targetVersion, CancellationToken cancellationToken) =>
        LockedAsync(() => RunLockedAsync(targetVersion, cancellationToken), cancellationToken);

    /// <summary>
    /// Reverts applied migrations, latest first: the latest one by default, every one above
    /// <paramref name="targetVersion"/> when given (0 reverts all).
    /// </summary>
    /// <returns>The migrations this call reverted.</returns>
    public Task<IReadOnlyList<Migration>> RevertAsync(long? targetVersion, CancellationToken cancellationToken) =>
        LockedAsync(() => RevertLockedAsync(targetVersion, cancellationToken), cancellationToken);

    private async Task<T> LockedAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        await _store.LockAsync(cancellationToken);
        try
        {
            return await work();
        }
        finally
        {
            await _store.UnlockAsync(CancellationToken.None);
        }
    }

    private async Task<IReadOnlyList<Migration>> RunLockedAsync(long? targetVersion, CancellationToken cancellationToken)
    {
        var (migrations, applied) = await ValidateAsync(cancellationToken);
        if (targetVersion is { } target)
        {
            if (migrations.All(m => m.Version != target))
            {
                throw new MigrationException(
                    MigrationErrorKind.UnknownTargetVersion,
                    $"target version {target} is not a migration in {_set.SourceDirectory}");
            }

            var latestApplied = applied.Keys.Where(v => migrations.Any(m => m.Version == v)).DefaultIfEmpty(0).Max();
            if (target < latestApplied)
            {
                throw new MigrationException(
                    MigrationErrorKind.TargetVersionTooOld,
                    $"target version {target} is older than the latest applied version {latestApplied}; use `migrate revert --target-version {target}`");
            }
        }

        var pending = migrations
            .Where(m => !applied.ContainsKey(m.Version) && (targetVersion is null || m.Version <= targetVersion))
            .ToList();
        if (pending.Count == 0)
        {
            return [];
        }

        await _store.EnsureBookkeepingTableAsync(cancellationToken);
        var done = new List<Migration>();
        foreach (var migration in pending)
        {
            if (await _store.ApplyAsync(migration, cancellationToken))
            {
                done.Add(migration);
            }
        }

        return done;
    }

    private async Task<IReadOnlyList<Migration>> RevertLockedAsync(long? targetVersion, CancellationToken cancellationToken)
    {
        var (migrations, applied) = await ValidateAsync(cancellationToken);
        if (targetVersion is { } target && target != 0 && migrations.All(m => m.Version != target))
        {
            throw new MigrationException(
                MigrationErrorKind.UnknownTargetVersion,
                $"target version {target} is not a migration in {_set.SourceDirectory} (use 0 to revert all)");
        }

        // Versions applied but without a file (ignore-missing) are left alone, as sqlx does.
        var toRevert = migrations
            .Where(m => applied.ContainsKey(m.Version))
            .OrderByDescending(m => m.Version)
            .ToList();
        if (targetVersion is { } floor)
        {
            if (toRevert.Count > 0 && floor > toRevert[0].Version)
            {
                throw new MigrationException(
                    MigrationErrorKind.TargetVersionTooNew,
                    $"target version {floor} is newer than the latest applied version {toRevert[0].Version}; use `migrate run --target-version {floor}`");
            }

            toRevert = toRevert.Where(m => m.Version > floor).ToList();
        }
        else
        {
            toRevert = toRevert.Take(1).ToList();
        }

        if (toRevert.FirstOrDefault(m => !m.IsReversible) is { } simple)
        {
            throw new MigrationException(
                MigrationErrorKind.NotReversible,
                $"migration {simple.Version} ({simple.Up.FileName}) has no down file and cannot be reverted");
        }

        var done = new List<Migration>();
        foreach (var migration in toRevert)
        {
            if (await _store.RevertAsync(migration, cancellationToken))
            {
                done.Add(migration);
            }
        }

        return done;
    }

    /// <summary>Reverts every applied migration, then applies them all again.</summary>
    public async Task<(IReadOnlyList<Migration> Reverted, IReadOnlyList<Migration> Applied)> ResetAsync(CancellationToken cancellationToken)
    {
        var reverted = await RevertAsync(0, cancellationToken);
        var applied = await RunAsync(null, cancellationToken);
        return (reverted, applied);
    }
}
