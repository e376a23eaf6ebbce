using System.Threading.Channels;
using Gateway.Contracts;
using Microsoft.Data.Sqlite;

namespace Gateway.Bench.Baselines;

/// <summary>
/// What B2 adds to B1: the durable write a status change needs before anyone may hear of it, done as lean as SQLite
/// allows. One connection (WAL, synchronous=NORMAL, as the gateway opens it), one writer loop with group commit (every
/// change queued while a transaction runs goes into the next), two statements prepared once: a compare-and-set upsert
/// of the task row and the event row's insert returning its id. No ORM, no tracking, no savepoints, no workflows, no
/// authorisation. The difference between B2 and B1 is the price of persistence itself on this machine; the
/// difference between the gateway and B2 is the price of everything else the gateway does per change.
/// </summary>
internal sealed class DurableChangeLog : IAsyncDisposable
{
    private const int MaxGroup = 256;

    private readonly Channel<PendingChange> _queue = Channel.CreateUnbounded<PendingChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _upsert;
    private readonly SqliteCommand _insert;
    private readonly Task _loop;

    public DurableChangeLog(string path)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, ForeignKeys = true }.ConnectionString);
        _connection.Open();
        using (var pragma = _connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;";
            pragma.ExecuteNonQuery();
        }

        // The first change of a task creates its row (B1's task ids are names, not rows); every later one is a
        // compare-and-set on the status, as the gateway's expectedStatus is.
        _upsert = _connection.CreateCommand();
        _upsert.CommandText = """
            INSERT INTO tasks (id, title, task_type, status, updated_at) VALUES ($id, 'bench', 'bench', $status, $at)
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
            WHERE $expected IS NULL OR tasks.status = $expected
            """;
        _upsert.Parameters.Add("$id", SqliteType.Text);
        _upsert.Parameters.Add("$status", SqliteType.Text);
        _upsert.Parameters.Add("$at", SqliteType.Text);
        _upsert.Parameters.Add("$expected", SqliteType.Text);
        _insert = _connection.CreateCommand();
        _insert.CommandText = $"""
            INSERT INTO gateway_events (event_type, priority, task_id, payload, created_at)
            VALUES ('{EventTypes.TaskStatus}', {EventPriorities.Normal}, $id, $payload, $at) RETURNING id
            """;
        _insert.Parameters.Add("$id", SqliteType.Text);
        _insert.Parameters.Add("$payload", SqliteType.Text);
        _insert.Parameters.Add("$at", SqliteType.Text);
        _loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>The event's id once the change is committed; a <see cref="ConflictException"/> when the task was not in <paramref name="expected"/>.</summary>
    public Task<long> AppendAsync(string taskId, string status, string? expected, string payload, string at)
    {
        var change = new PendingChange(taskId, status, expected, payload, at);
        return _queue.Writer.TryWrite(change) ? change.Done.Task : Task.FromException<long>(new ObjectDisposedException(nameof(DurableChangeLog)));
    }

    private async Task WriteLoopAsync()
    {
        var group = new List<PendingChange>(MaxGroup);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (group.Count < MaxGroup && _queue.Reader.TryRead(out var change))
            {
                group.Add(change);
            }

            try
            {
                WriteGroup(group);
                foreach (var change in group)
                {
                    if (change.EventId is { } id)
                    {
                        change.Done.TrySetResult(id);
                    }
                    else
                    {
                        change.Done.TrySetException(new ConflictException($"task {change.TaskId} is not {change.Expected}"));
                    }
                }
            }
            catch (Exception exception)
            {
                // Whatever failed, every change of the group hears of it; none waits forever and the loop goes on.
                foreach (var change in group)
                {
                    change.Done.TrySetException(exception);
                }
            }

            group.Clear();
        }
    }

    private void WriteGroup(List<PendingChange> group)
    {
        using var transaction = _connection.BeginTransaction();
        _upsert.Transaction = transaction;
        _insert.Transaction = transaction;
        foreach (var change in group)
        {
            _upsert.Parameters[0].Value = change.TaskId;
            _upsert.Parameters[1].Value = change.Status;
            _upsert.Parameters[2].Value = change.At;
            _upsert.Parameters[3].Value = (object?)change.Expected ?? DBNull.Value;
            if (_upsert.ExecuteNonQuery() == 0)
            {
                change.EventId = null;
                continue;
            }

            _insert.Parameters[0].Value = change.TaskId;
            _insert.Parameters[1].Value = change.Payload;
            _insert.Parameters[2].Value = change.At;
            change.EventId = (long)_insert.ExecuteScalar()!;
        }

        transaction.Commit();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
        await _upsert.DisposeAsync();
        await _insert.DisposeAsync();
        await _connection.DisposeAsync();
    }

    private sealed class PendingChange(string taskId, string status, string? expected, string payload, string at)
    {
        public string TaskId { get; } = taskId;

        public string Status { get; } = status;

        public string? Expected { get; } = expected;

        public string Payload { get; } = payload;

        public string At { get; } = at;

        public long? EventId { get; set; }

        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>A compare-and-set that found the task elsewhere (the gateway answers 409).</summary>
internal sealed class ConflictException(string message) : Exception(message);
