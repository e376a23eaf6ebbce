using System.Diagnostics;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Gateway.Bench.Baselines;

/// <summary>
/// C on PostgreSQL: the gateway's status change (a task row toggled running/paused with updated_at, plus its
/// task.status row in gateway_events) with raw Npgsql, one connection, both commands prepared, BATCH changes per
/// transaction. With <c>--lock</c> each transaction first takes the event log's advisory lock as the gateway does, so
/// C+lock ÷ C is what keeping ids in commit order costs by itself.
/// </summary>
internal static class RawNpgsql
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 4)
        {
            Console.Error.WriteLine("usage: c-pg CONNECTION-STRING SECONDS BATCH TASKS [--lock]");
            return 2;
        }

        var seconds = double.Parse(args[1], CultureInfo.InvariantCulture);
        var batch = int.Parse(args[2], CultureInfo.InvariantCulture);
        var taskCount = int.Parse(args[3], CultureInfo.InvariantCulture);
        var takeLock = args.Contains("--lock");

        await using var connection = new NpgsqlConnection(args[0]);
        await connection.OpenAsync();
        var ids = Enumerable.Range(0, taskCount).Select(_ => Guid.NewGuid().ToString()).ToArray();
        await using (var seed = new NpgsqlCommand("INSERT INTO tasks (id, title, task_type, status) SELECT unnest(@ids), 'bench', 'bench', 'running'", connection))
        {
            seed.Parameters.AddWithValue("ids", ids);
            await seed.ExecuteNonQueryAsync();
        }

        await using var lockLog = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended('gateway.events', 0))", connection);
        await using var update = new NpgsqlCommand("UPDATE tasks SET status = @status, updated_at = @at, started_at = coalesce(started_at, @at) WHERE id = @id", connection);
        var updateStatus = update.Parameters.Add("status", NpgsqlDbType.Text);
        var updateAt = update.Parameters.Add("at", NpgsqlDbType.TimestampTz);
        var updateId = update.Parameters.Add("id", NpgsqlDbType.Text);
        await using var insert = new NpgsqlCommand("INSERT INTO gateway_events (event_type, priority, task_id, payload, created_at) VALUES ('task.status', 1, @id, @payload, @at)", connection);
        var insertId = insert.Parameters.Add("id", NpgsqlDbType.Text);
        var insertPayload = insert.Parameters.Add("payload", NpgsqlDbType.Text);
        var insertAt = insert.Parameters.Add("at", NpgsqlDbType.TimestampTz);
        await lockLog.PrepareAsync();
        await update.PrepareAsync();
        await insert.PrepareAsync();

        var running = new bool[taskCount];
        Array.Fill(running, true);
        var changes = 0L;
        var transactions = 0L;
        var clock = Stopwatch.StartNew();
        var next = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            if (takeLock)
            {
                await lockLog.ExecuteNonQueryAsync();
            }

            for (var i = 0; i < batch; i++)
            {
                var task = next++ % taskCount;
                var previous = running[task] ? "running" : "paused";
                var status = running[task] ? "paused" : "running";
                running[task] = !running[task];
                var at = DateTime.UtcNow;
                updateStatus.Value = status;
                updateAt.Value = at;
                updateId.Value = ids[task];
                await update.ExecuteNonQueryAsync();
                insertId.Value = ids[task];
                insertPayload.Value = $$"""{"task_id":"{{ids[task]}}","status":"{{status}}","previous_status":"{{previous}}","timestamp":"{{at:O}}"}""";
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
}
