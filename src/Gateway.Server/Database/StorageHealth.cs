using Microsoft.Data.Sqlite;

namespace Gateway.Server.Database;

/// <summary>
/// Whether writes reach the disk: the writers report every storage fault and every commit. While writes fail,
/// readiness says why; a commit, or a probe (<see cref="ProbeAsync"/>) that finds the disk writable again, ends it, so
/// service comes back without a restart.
/// </summary>
internal sealed partial class StorageHealth
{
    private readonly DatabaseLocation _database;
    private readonly DatabaseConnections _connections;
    private readonly TimeProvider _time;
    private readonly ILogger<StorageHealth> _logger;
    private int _probing;
    private volatile Fault? _fault;

    public StorageHealth(DatabaseLocation database, DatabaseConnections connections, TimeProvider time, ILogger<StorageHealth> logger)
    {
        _connections = connections;
        _database = database;
        _time = time;
        _logger = logger;
    }

    /// <summary>The fault writes fail with now, or null.</summary>
    public Fault? Current => _fault;

    /// <summary>A write failed; when the failure is a storage fault, readiness reports it until writes succeed again.</summary>
    public void Failed(Exception exception)
    {
        var kind = StorageFault.Of(exception);
        if (kind == StorageFaultKind.None)
        {
            return;
        }

        var previous = _fault;
        if (previous?.Kind != kind)
        {
            _fault = new Fault(kind, _time.GetUtcNow());
            LogFault(exception, StorageFault.RestCode(kind), StorageFault.Describe(kind));
        }
    }

    /// <summary>A write committed.</summary>
    public void Succeeded()
    {
        if (_fault is { } fault)
        {
            _fault = null;
            LogRecovered(StorageFault.RestCode(fault.Kind), (_time.GetUtcNow() - fault.Since).TotalSeconds);
        }
    }

    /// <summary>
    /// While a fault lasts, checks whether the disk takes writes again: a 1 MiB file written and synced beside the
    /// database (a full disk refuses it even when SQLite's WAL still has room), then a write transaction that allocates
    /// pages and is rolled back (a read-only file refuses it). Both passing ends the fault. On PostgreSQL: a connection
    /// and a write transaction (a standby or a read-only default refuses it), rolled back.
    /// </summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        if (_fault is null || _database.IsInMemory || Interlocked.Exchange(ref _probing, 1) == 1)
        {
            return;
        }

        try
        {
            if (_connections.IsPostgres)
            {
                await using var postgres = await _connections.OpenAsync(cancellationToken);
                await using var write = await postgres.BeginTransactionAsync(cancellationToken);
                await using var probeTable = postgres.Command("CREATE TEMP TABLE gateway_storage_probe (x BIGINT) ON COMMIT DROP; INSERT INTO gateway_storage_probe VALUES (txid_current())", write);
                await probeTable.ExecuteNonQueryAsync(cancellationToken);
                await write.RollbackAsync(cancellationToken);
                Succeeded();
                return;
            }

            var folder = Path.GetDirectoryName(Path.GetFullPath(_database.Builder.DataSource)) ?? ".";
            var probe = Path.Combine(folder, $".gateway-space-probe-{Environment.ProcessId}");
            try
            {
                await using (var file = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
                {
                    await file.WriteAsync(new byte[1024 * 1024], cancellationToken);
                    await file.FlushAsync(cancellationToken);
                }
            }
            finally
            {
                File.Delete(probe);
            }

            await using var connection = new SqliteConnection(_database.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken); // IMMEDIATE: takes the write lock
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "CREATE TABLE gateway_storage_probe (x BLOB); INSERT INTO gateway_storage_probe VALUES (zeroblob(262144));";
            await command.ExecuteNonQueryAsync(cancellationToken);
            await transaction.RollbackAsync(cancellationToken);
            Succeeded();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Data.Common.DbException or TimeoutException)
        {
            LogProbeFailed(exception.Message);
        }
        finally
        {
            Volatile.Write(ref _probing, 0);
        }
    }

    public sealed record Fault(StorageFaultKind Kind, DateTimeOffset Since);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Error, Message = "Writes fail ({Code}): {What}")]
    private partial void LogFault(Exception exception, string code, string what);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "Writes reach the database again ({Code} lasted {Seconds:0.0} s)")]
    private partial void LogRecovered(string code, double seconds);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Debug, Message = "The storage probe still fails: {Reason}")]
    private partial void LogProbeFailed(string reason);
}
