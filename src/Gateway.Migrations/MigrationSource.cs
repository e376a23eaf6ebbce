namespace Gateway.Migrations;

/// <summary>One version of a migration set: its up (or simple) file and, when reversible, its down file.</summary>
public sealed record Migration(MigrationFile Up, MigrationFile? Down)
{
    public long Version => Up.Version;

    public string Description => Up.Description;

    public byte[] Checksum => Up.Checksum;

    public bool IsReversible => Down is not null;
}

/// <summary>Loads the migrations of a folder in version order.</summary>
public static class MigrationSource
{
    public static async Task<IReadOnlyList<Migration>> LoadAsync(string directory, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(directory))
        {
            throw new MigrationException(
                MigrationErrorKind.SourceMissing,
                $"migration source folder '{Path.GetFullPath(directory)}' does not exist; pass --source with the folder that holds the *.sql files");
        }

        var ups = new Dictionary<long, MigrationFile>();
        var downs = new Dictionary<long, MigrationFile>();
        foreach (var path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            var file = await MigrationFile.ReadAsync(path, cancellationToken);
            if (file is null)
            {
                continue;
            }

            var target = file.Kind == MigrationKind.ReversibleDown ? downs : ups;
            if (!target.TryAdd(file.Version, file))
            {
                throw new MigrationException(
                    MigrationErrorKind.DuplicateVersion,
                    $"migration version {file.Version} appears twice in '{directory}': {target[file.Version].FileName} and {file.FileName}");
            }
        }

        foreach (var (version, down) in downs)
        {
            if (!ups.TryGetValue(version, out var up) || up.Kind != MigrationKind.ReversibleUp)
            {
                throw new MigrationException(
                    MigrationErrorKind.BadFileName,
                    $"{down.FileName} has no matching {version}_{down.Description.Replace(' ', '_')}.up.sql");
            }
        }

        foreach (var up in ups.Values.Where(u => u.Kind == MigrationKind.ReversibleUp && !downs.ContainsKey(u.Version)))
        {
            throw new MigrationException(
                MigrationErrorKind.BadFileName,
                $"{up.FileName} has no matching .down.sql file");
        }

        return ups.Values
            .OrderBy(u => u.Version)
            .Select(u => new Migration(u, downs.GetValueOrDefault(u.Version)))
            .ToList();
    }
}
