using Gateway.Migrations;

namespace Gateway.Testing;

/// <summary>
/// A SQLite database built the way the orchestrator's own sqlx migrations build it, from SQL written here from the
/// facts of its schema (not copied from its files): the same six tables with its narrower CHECKs (tasks pending,
/// running, completed, failed, cancelled; workflows draft, active, archived, paused; tool executions pending, running,
/// completed, failed, timeout; sessions websocket, http, grpc), and three later versions with tables Gateway does not
/// know (bugs, prompt history, checkpoints). Its <c>_sqlx_migrations</c> rows hold the checksums of these files, not
/// Gateway's; <see cref="AssertOrchestratorMigratorAcceptsAsync"/> validates the database as the orchestrator's
/// migrator would (sqlx's rules, strict).
/// </summary>
public sealed class OrchestratorOwnedDatabase : IDisposable
{
    private OrchestratorOwnedDatabase(TemporarySqliteFile database, string migrations)
    {
        Database = database;
        MigrationsDirectory = migrations;
    }

    public TemporarySqliteFile Database { get; }

    /// <summary>The orchestrator's migration files (ten versions, up and down).</summary>
    public string MigrationsDirectory { get; }

    /// <param name="omitColumn">A <c>table.column</c> the orchestrator's schema lacks here, to see Gateway refuse.</param>
    /// <param name="extraColumn">A column definition added to <c>tasks</c> (e.g. <c>priority INTEGER NOT NULL</c>).</param>
    public static async Task<OrchestratorOwnedDatabase> CreateAsync(string? omitColumn = null, string? extraColumn = null)
    {
        var database = new TemporarySqliteFile("orchestrator.db");
        var migrations = Path.Combine(database.Directory, "orchestrator-migrations");
        Directory.CreateDirectory(migrations);
        foreach (var (name, up, down) in Files(omitColumn, extraColumn))
        {
            await File.WriteAllTextAsync(Path.Combine(migrations, name + ".up.sql"), up);
            await File.WriteAllTextAsync(Path.Combine(migrations, name + ".down.sql"), down);
        }

        var owned = new OrchestratorOwnedDatabase(database, migrations);
        await using (var connection = database.Open())
        {
            await owned.Migrator(connection).RunAsync(targetVersion: null, CancellationToken.None);
        }

        // Rows of the orchestrator's own later tables, which Gateway must leave alone.
        database.QueryLong("""
            INSERT INTO bugs (id, title, status) VALUES ('bug-1', 'Flaky build', 'open');
            INSERT INTO prompt_history (id, prompt, response) VALUES ('prompt-1', 'Plan the work', 'Three steps');
            INSERT INTO checkpoints (id, task_id, state) VALUES ('checkpoint-1', 'none', '{"step":2}');
            SELECT 1
            """);
        return owned;
    }

    /// <summary>The orchestrator's bookkeeping, every column, as text: compare before and after Gateway ran.</summary>
    public string[] Bookkeeping() => Database.QueryStrings(
        "SELECT version || '|' || description || '|' || installed_on || '|' || success || '|' || hex(checksum) || '|' || execution_time FROM _sqlx_migrations ORDER BY version");

    /// <summary>The later tables' definitions and rows.</summary>
    public string[] LaterTables() => Database.QueryStrings("""
        SELECT sql FROM sqlite_master WHERE name IN ('bugs', 'prompt_history', 'checkpoints') OR tbl_name IN ('bugs', 'prompt_history', 'checkpoints')
        UNION ALL SELECT id || title || status FROM bugs
        UNION ALL SELECT id || prompt || response FROM prompt_history
        UNION ALL SELECT id || task_id || state FROM checkpoints
        ORDER BY 1
        """);

    /// <summary>Validates the database with the orchestrator's files and sqlx's rules (no ignore-missing): nothing dirty, changed, unknown or pending.</summary>
    public async Task AssertOrchestratorMigratorAcceptsAsync()
    {
        await using var connection = Database.Open();
        var migrator = Migrator(connection);
        var (migrations, applied) = await migrator.ValidateAsync(CancellationToken.None);
        var pending = migrations.Where(m => !applied.ContainsKey(m.Version)).Select(m => m.Version).ToList();
        if (pending.Count > 0 || applied.Count != migrations.Count)
        {
            throw new InvalidOperationException($"the orchestrator's migrator would not find its database as it left it: pending {string.Join(", ", pending)}, applied {applied.Count} of {migrations.Count}");
        }
    }

    public void Dispose() => Database.Dispose();

    private Migrator Migrator(Microsoft.Data.Sqlite.SqliteConnection connection) => new(
        new MigrationSet("orchestrator-own", MigrationsDirectory, MigrationSet.SqlxBookkeepingTable),
        new SqliteMigrationStore(connection, MigrationSet.SqlxBookkeepingTable));

    private static IEnumerable<(string Name, string Up, string Down)> Files(string? omit, string? extra)
    {
        string Column(string table, string column, string definition) => omit == $"{table}.{column}" ? string.Empty : $"    {column} {definition},\n";

        yield return ("20250115010000_create_tasks", $"""
            -- The orchestrator's tasks.
            CREATE TABLE IF NOT EXISTS tasks (
                id TEXT PRIMARY KEY NOT NULL,
                title TEXT NOT NULL,
                description TEXT,
                task_type TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending' CHECK(status IN ('pending','running','completed','failed','cancelled')),
                config TEXT NOT NULL DEFAULT '{"{"}{"}"}',
                metadata TEXT,
            {Column("tasks", "workspace_path", "TEXT")}{(extra is null ? string.Empty : $"    {extra},\n")}    created_at TEXT NOT NULL DEFAULT (datetime('now')),
                updated_at TEXT NOT NULL DEFAULT (datetime('now')),
                started_at TEXT,
                completed_at TEXT,
                error TEXT
            );
            CREATE INDEX IF NOT EXISTS idx_tasks_status ON tasks(status);
            CREATE INDEX IF NOT EXISTS idx_tasks_task_type ON tasks(task_type);
            CREATE INDEX IF NOT EXISTS idx_tasks_created_at ON tasks(created_at);
            """, "DROP TABLE IF EXISTS tasks;\n");
        yield return ("20250115010100_create_workflows", """
            CREATE TABLE IF NOT EXISTS workflows (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                description TEXT,
                definition TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'draft',
                created_at TEXT NOT NULL DEFAULT (datetime('now')),
                updated_at TEXT NOT NULL DEFAULT (datetime('now')),
                CONSTRAINT workflows_status CHECK (status IN ('draft', 'active', 'archived', 'paused'))
            );
            CREATE INDEX IF NOT EXISTS idx_workflows_status ON workflows(status);
            """, "DROP TABLE IF EXISTS workflows;\n");
        yield return ("20250115010200_create_workflow_tasks", """
            CREATE TABLE IF NOT EXISTS workflow_tasks (
                workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
                task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
                sequence INTEGER NOT NULL,
                created_at TEXT NOT NULL DEFAULT (datetime('now')),
                PRIMARY KEY (workflow_id, task_id)
            );
            """, "DROP TABLE IF EXISTS workflow_tasks;\n");
        yield return ("20250115010300_create_tool_executions", """
            CREATE TABLE IF NOT EXISTS tool_executions (
                id TEXT PRIMARY KEY NOT NULL,
                task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
                tool_name TEXT NOT NULL,
                arguments TEXT NOT NULL,
                output TEXT,
                status TEXT NOT NULL DEFAULT 'pending' CHECK ( "status" IN ( 'pending', 'running', 'completed', 'failed', 'timeout' ) ),
                error TEXT,
                created_at TEXT NOT NULL DEFAULT (datetime('now')),
                started_at TEXT,
                completed_at TEXT,
                duration_ms INTEGER
            );
            CREATE INDEX IF NOT EXISTS idx_tool_executions_task_id ON tool_executions(task_id);
            """, "DROP TABLE IF EXISTS tool_executions;\n");
        yield return ("20250115010400_create_sessions", """
            CREATE TABLE IF NOT EXISTS sessions (
                id TEXT PRIMARY KEY NOT NULL,
                client_id TEXT NOT NULL,
                user_id TEXT,
                connection_type TEXT NOT NULL,
                is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
                metadata TEXT,
                created_at TEXT NOT NULL DEFAULT (datetime('now')),
                updated_at TEXT NOT NULL DEFAULT (datetime('now')),
                last_heartbeat TEXT NOT NULL DEFAULT (datetime('now')),
                CHECK (connection_type IN ('websocket', 'http', 'grpc'))
            );
            CREATE INDEX IF NOT EXISTS idx_sessions_is_active ON sessions(is_active);
            CREATE INDEX IF NOT EXISTS idx_sessions_last_heartbeat ON sessions(last_heartbeat);
            """, "DROP TABLE IF EXISTS sessions;\n");
        yield return ("20250115010500_create_configurations", """
            CREATE TABLE IF NOT EXISTS configurations (
                key TEXT PRIMARY KEY NOT NULL,
                value TEXT NOT NULL,
                value_type TEXT NOT NULL DEFAULT 'string' CHECK (value_type IN ('string', 'integer', 'float', 'boolean', 'json')),
                description TEXT,
                is_secret INTEGER NOT NULL DEFAULT 0 CHECK (is_secret IN (0, 1)),
                created_at TEXT NOT NULL DEFAULT (datetime('now')),
                updated_at TEXT NOT NULL DEFAULT (datetime('now'))
            );
            """, "DROP TABLE IF EXISTS configurations;\n");
        yield return ("20250115010600_create_triggers", """
            CREATE TRIGGER IF NOT EXISTS tasks_touch AFTER UPDATE ON tasks FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
            BEGIN UPDATE tasks SET updated_at = datetime('now') WHERE id = NEW.id; END;
            CREATE TRIGGER IF NOT EXISTS workflows_touch AFTER UPDATE ON workflows FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
            BEGIN UPDATE workflows SET updated_at = datetime('now') WHERE id = NEW.id; END;
            """, "DROP TRIGGER IF EXISTS tasks_touch;\nDROP TRIGGER IF EXISTS workflows_touch;\n");
        yield return ("20250201000000_create_bugs", """
            CREATE TABLE IF NOT EXISTS bugs (id TEXT PRIMARY KEY NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('open', 'fixed')));
            """, "DROP TABLE IF EXISTS bugs;\n");
        yield return ("20250301000000_create_prompt_history", """
            CREATE TABLE IF NOT EXISTS prompt_history (id TEXT PRIMARY KEY NOT NULL, prompt TEXT NOT NULL, response TEXT, created_at TEXT NOT NULL DEFAULT (datetime('now')));
            """, "DROP TABLE IF EXISTS prompt_history;\n");
        yield return ("20250401000000_create_checkpoints", """
            CREATE TABLE IF NOT EXISTS checkpoints (id TEXT PRIMARY KEY NOT NULL, task_id TEXT NOT NULL, state TEXT NOT NULL);
            """, "DROP TABLE IF EXISTS checkpoints;\n");
    }
}
