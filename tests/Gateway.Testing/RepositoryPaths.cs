namespace Gateway.Testing;

/// <summary>Locates the repository the tests were built from, so they read the real migration files.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;

    public static string SqliteMigrations => Path.Combine(Root, "migrations", "sqlite");

    public static string GatewaySqliteMigrations => Path.Combine(Root, "migrations", "gateway", "sqlite");

    public static string PostgresMigrations => Path.Combine(Root, "migrations", "postgres");

    public static string GatewayPostgresMigrations => Path.Combine(Root, "migrations", "gateway", "postgres");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Gateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Gateway.sln above {AppContext.BaseDirectory}");
    }
}
