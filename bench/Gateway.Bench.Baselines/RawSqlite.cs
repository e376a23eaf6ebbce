using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Gateway.Bench.Baselines;

/// <summary>
/// C: the write floor. The same change as the gateway's status path (a task row toggled running/paused with
/// updated_at, plus its task.status row in gateway_events), written with one connection, WAL and
/// synchronous=NORMAL as the gateway opens it, two prepared commands reused for every row, BATCH changes per
/// transaction. No reads, no ORM, no savepoints: what SQLite itself allows on this disk.
/// </summary>
internal static class RawSqlite
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 4)
        {
            Console.Error.WriteLine("usage: c DB SECONDS BATCH TASKS");
            return 2;
        }

        var path = args[0];
        var seconds = double.Parse(args[1], CultureInfo.InvariantCulture);
        var batch = int.Parse(args[2], CultureInfo.InvariantCulture);
        var taskCount = int.Parse(args[3], CultureInfo.InvariantCulture);

        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, ForeignKeys = true }.ConnectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");

        var ids = Enumerable.Range(0, taskCount).Select(_ => Guid.NewGuid().ToString()).ToArray();
        await using (var seed = connection.BeginTransaction())
        {
            foreach (var id in ids)
            {
                await ExecuteAsync(connection, $"INSERT INTO tasks (id, title, task_type, status) VALUES ('{id}', 'bench', 'bench', 'running')", seed);
            }

            await seed.CommitAsync();
        }

        await using var update = connection.CreateCommand();
        update.CommandText = "UPDATE tasks SET status = $status, updated_at = $at, started_at = coalesce(started_at, $at) WHERE id = $id";
        var updateStatus = update.Parameters.Add("$status", SqliteType.Text);
        var updateAt = update.Parameters.Add("$at", SqliteType.Text);
        var updateId = update.Parameters.Add("$id", SqliteType.Text);
        await using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO gateway_events (event_type, priority, task_id, payload, created_at) VALUES ('task.status', 1, $id, $payload, $at)";
        var insertId = insert.Parameters.Add("$id", SqliteType.Text);
        var insertPayload = insert.Parameters.Add("$payload", SqliteType.Text);
        var insertAt = insert.Parameters.Add("$at", SqliteType.Text);

        var running = new bool[taskCount];
        Array.Fill(running, true);
        var changes = 0L;
        var transactions = 0L;
        var clock = Stopwatch.StartNew();
        var next = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            await using var transaction = connection.BeginTransaction();
            update.Transaction = transaction;
            insert.Transaction = transaction;
            if (transactions == 0)
            {
                update.Prepare();
                insert.Prepare();
            }

            for (var i = 0; i < batch; i++)
            {
                var task = next++ % taskCount;
                var previous = running[task] ? "running" : "paused";
                var status = running[task] ? "paused" : "running";
                running[task] = !running[task];
                var at = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture);
                updateStatus.Value = status;
                updateAt.Value = at;
                updateId.Value = ids[task];
                await update.ExecuteNonQueryAsync();
                insertId.Value = ids[task];
                insertPayload.Value = $$"""{"task_id":"{{ids[task]}}","status":"{{status}}","previous_status":"{{previous}}","timestamp":"{{at}}"}""";
                insertAt.Value = at;
                await insert.ExecuteNonQueryAsync();
            }

            await transaction.CommitAsync();
            changes += batch;
            transactions++;
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $$"""{"changes":{{changes}},"transactions":{{transactions}},"seconds":{{elapsed:0.000}},"changesPerSecond":{{changes / elapsed:0.0}}}"""));
        return 0;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync();
    }
}
