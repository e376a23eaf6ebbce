using System.Threading.Channels;
using System.Data;
using System.Data.Common;
using Gateway.Data;
using Gateway.Data.Interceptors;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace Gateway.Server.Events;

/// <summary>
/// Commits changes of the orchestrator's state and their events, in groups: every change queued while the previous
/// group was being written goes into one transaction, and one refused change never takes the others with it. A group
/// is first written without savepoints; if a change of it is refused, that pass is rolled back and the group written
/// again with each change behind its own savepoint (EF Core takes one per SaveChanges inside a transaction), so the
/// outcome is the same as with savepoints throughout, at two statements less per change when nothing is refused.
/// In that first pass, consecutive <see cref="ChangeSaving.Shared"/> changes are saved by one SaveChanges (EF Core's
/// fixed cost per SaveChanges was a quarter of a status change's CPU); a refusal, or a row the database refuses at
/// that save, sends the group to the savepoint pass, where every change is saved on its own.
/// Each transaction first calls <see cref="IEventLog.BeginAppendsAsync"/> (PostgreSQL: the log's advisory lock).
/// A connection to PostgreSQL lost during the COMMIT leaves the outcome in doubt: the writer asks the database
/// (<see cref="PostgresCommitOutcome"/>) before it answers, so the callers get an acknowledgement (it committed) or
/// <c>storage_unavailable</c> (it did not), and <c>commit_outcome_unknown</c> only when the database cannot be asked
/// within <see cref="EventOptions.CommitOutcomeWaitSeconds"/>.
/// Events are broadcast after the commit, in id order. One writer per node: the database has one appender at a time
/// anyway, and the order in which changes are applied is the order of their events. The writer keeps one connection
/// open; on SQLite with its statements prepared once (<see cref="PreparedStatements"/>): EF Core builds every
/// command, SQLite no longer compiles the same SQL again for each change.
/// </summary>
internal sealed partial class ChangeWriter : BackgroundService
{
    private const int MaxBatch = 256;

    // SQLite's extended result codes of SQLITE_CONSTRAINT (19).
    private const int SqliteConstraintCheck = 275;
    private const int SqliteConstraintForeignKey = 787;
    private const int SqliteConstraintNotNull = 1299;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintTrigger = 1811;
    private const int SqliteConstraintUnique = 2067;
    private const int SqliteConstraintRowId = 2579;
    private const int SqliteConstraintDataType = 3091;

    private readonly Channel<PendingChange> _queue = Channel.CreateUnbounded<PendingChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IDbContextFactory<GatewayDbContext> _contexts;
    private readonly IEventLog _log;
    private readonly EventLogFollower _follower;
    private readonly TimeProvider _time;
    private readonly ILogger<ChangeWriter> _logger;
    private readonly Metrics.GatewayMetrics _metrics;
    private readonly ILoggerFactory _loggerFactory;
    private readonly Database.StorageHealth _storage;
    private readonly Database.DatabaseConnections _connections;
    private readonly PostgresCommitOutcome _outcome;
    private readonly TimeSpan _outcomeWait;
    private long _transactions;
    private long _changes;
    private long _saves;
    private int _queued;

    // The writer's own connection, open across groups (only the writer loop touches it), its prepared statements, and
    // a pool of contexts bound to it. Not the shared pool: a context of the shared pool given this connection went back
    // to that pool still holding it, and a later read (a subscription's replay) then ran on the writer's connection,
    // inside its open transaction, from another thread.
    private DbConnection? _connection;
    private IDisposable? _statements;
    private PooledDbContextFactory<GatewayDbContext>? _groupContexts;

    public ChangeWriter(
        IDbContextFactory<GatewayDbContext> contexts,
        IEventLog log,
        EventLogFollower follower,
        TimeProvider time,
        Metrics.GatewayMetrics metrics,
        ILoggerFactory loggerFactory,
        Database.StorageHealth storage,
        Database.DatabaseConnections connections,
        PostgresCommitOutcome outcome,
        Microsoft.Extensions.Options.IOptions<EventOptions> options,
        ILogger<ChangeWriter> logger)
    {
        _outcome = outcome;
        _outcomeWait = TimeSpan.FromSeconds(options.Value.CommitOutcomeWaitSeconds);
        _connections = connections;
        _storage = storage;
        _loggerFactory = loggerFactory;
        _metrics = metrics;
        _contexts = contexts;
        _log = log;
        _follower = follower;
        _time = time;
        _logger = logger;
    }

    /// <summary>Transactions committed (each holding one or more changes).</summary>
    public long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Changes committed.</summary>
    public long Changes => Interlocked.Read(ref _changes);

    /// <summary>SaveChanges calls made (shared changes next to each other make one).</summary>
    public long Saves => Interlocked.Read(ref _saves);

    /// <summary>Changes queued and not yet taken into a group.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>
    /// Runs <paramref name="change"/> in the writer's next transaction and completes once it is committed and its
    /// events are handed to the broadcaster. A <see cref="GatewayRequestException"/> thrown by the change refuses it
    /// and changes nothing. The change must not call SaveChanges itself.
    /// </summary>
    public async Task<T> ExecuteAsync<T>(
        Func<ChangeScope, CancellationToken, Task<T>> change, CancellationToken cancellationToken, ChangeSaving saving = ChangeSaving.Alone)
    {
        var pending = new PendingChange(async (scope, token) => await change(scope, token), saving);
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _queued);
            throw new InvalidOperationException("The change writer has stopped.");
        }

        return (T)(await pending.Completion.Task.WaitAsync(cancellationToken))!;
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _follower.Initialize(await _log.HeadAsync(cancellationToken), (await _log.StateAsync(cancellationToken)).Epoch);

        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
        if (ExecuteTask is null || ExecuteTask.IsCompleted)
        {
            // Only once the loop is done with it; a loop still writing when the host gave up keeps it to the end.
            CloseConnection();
        }
    }

    /// <summary>A context for one group, on the writer's connection (opened, with its settings, when there is none).</summary>
    private async Task<GatewayDbContext> CreateGroupContextAsync()
    {
        if (_connection is not { State: ConnectionState.Open } || _groupContexts is null)
        {
            CloseConnection();
            try
            {
                _connection = await _connections.OpenAsync(CancellationToken.None);
                var options = new DbContextOptionsBuilder<GatewayDbContext>();
                if (_connection is SqliteConnection sqlite)
                {
                    _statements = PreparedStatements.Keep(sqlite);
                    options.UseGatewaySqlite(sqlite, _time);
                }
                else
                {
                    options.UseGatewayPostgres(_connection, _time);
                }

                // EF Core leaves a connection it was given open when a context is disposed or returned to this pool. Its
                // log goes where the shared pool's goes (which gets the application's logger factory from DI).
                _groupContexts = new PooledDbContextFactory<GatewayDbContext>(options.UseLoggerFactory(_loggerFactory).Options);
            }
            catch
            {
                CloseConnection();
                throw;
            }
        }

        var db = _groupContexts.CreateDbContext();
        // Changes are detected once per save (SaveAsync): with detection automatic, the timestamp interceptor's look at
        // the tracked entries scanned them all and SaveChanges scanned them again. Nothing else in a change needs
        // detected states: tracking queries return the tracked entities, and Add and Remove set theirs.
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        return db;
    }

    private void CloseConnection()
    {
        _groupContexts = null;
        _statements?.Dispose();
        _statements = null;
        _connection?.Dispose();
        _connection = null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingChange>(MaxBatch);
        // Queued changes are written even while stopping: the loop ends when the queue is completed and empty.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var change))
            {
                Interlocked.Decrement(ref _queued);
                batch.Add(change);
            }

            await WriteAsync(batch);
            batch.Clear();
        }
    }

    private async Task WriteAsync(List<PendingChange> batch)
    {
        // First without savepoints: EF Core's savepoint per SaveChanges is two statements per change, and a refused
        // change is rare. When one is refused, that pass is rolled back and, if the group held other changes, the
        // group is written again with a savepoint per change, so the refused one rolls back alone as before.
        if (await WriteGroupAsync(batch, savepoints: false) == GroupOutcome.RetryWithSavepoints)
        {
            await WriteGroupAsync(batch, savepoints: true);
        }
    }

    private async Task<GroupOutcome> WriteGroupAsync(List<PendingChange> batch, bool savepoints)
    {
        var done = new List<(PendingChange Change, object? Result)>(batch.Count);
        var events = new List<Data.Entities.EventLogEntry>();
        var started = _time.GetTimestamp();
        var final = savepoints || batch.Count == 1;
        // What settles a commit whose answer is lost with the connection (PostgreSQL): the transaction's id and backend.
        long? transactionId = null;
        var backend = 0;
        var committing = false;
        try
        {
            await using var db = await CreateGroupContextAsync();
            db.Database.AutoSavepointsEnabled = savepoints;
            backend = (_connection as NpgsqlConnection)?.ProcessID ?? 0;
            await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
            transactionId = await _log.BeginAppendsAsync(db, CancellationToken.None);
            // Shared changes that have run and are not saved yet: their rows are in the change tracker, not the database.
            var unsaved = false;
            foreach (var change in batch)
            {
                var saveAlone = final || change.Saving == ChangeSaving.Alone;
                if (saveAlone && unsaved)
                {
                    // A change saved alone may query anything: it runs on what the shared ones before it wrote.
                    if (!await SaveSharedAsync(db))
                    {
                        return GroupOutcome.RetryWithSavepoints;
                    }

                    unsaved = false;
                }

                var scope = new ChangeScope(db, _time.GetUtcNow().UtcDateTime, _log);
                Exception? refusal = null;
                try
                {
                    var result = await change.Run(scope, CancellationToken.None);
                    if (saveAlone)
                    {
                        Interlocked.Increment(ref _saves);
                        await SaveAsync(db);
                    }
                    else
                    {
                        unsaved = true;
                    }

                    done.Add((change, result));
                    events.AddRange(scope.Events);
                }
                catch (GatewayRequestException exception)
                {
                    refusal = exception;
                }
                catch (DbUpdateConcurrencyException)
                {
                    refusal = new ConflictException("the row was changed by another writer; reload it and try again");
                }
                catch (DbUpdateException exception) when (IsConstraint(exception, out var constraint))
                {
                    // In a first pass any refusal only sends the group to the savepoint pass, which reports it.
                    refusal = final ? RefusedByDatabase(constraint) : exception;
                }
                catch (Exception exception) when (exception is not DbUpdateException and not DbException)
                {
                    // A defect in one change fails that change only; the hub filter and the API report it as internal.
                    if (final)
                    {
                        LogChangeFailed(exception);
                    }

                    refusal = exception;
                }
                finally
                {
                    if (saveAlone)
                    {
                        db.ChangeTracker.Clear();
                    }
                }

                if (refusal is null)
                {
                    continue;
                }

                if (!final)
                {
                    // Without savepoints the refused change may have left rows in the transaction or the change
                    // tracker: roll all back (disposing the transaction uncommitted) and write the group again with
                    // savepoints.
                    return GroupOutcome.RetryWithSavepoints;
                }

                change.Completion.TrySetException(refusal);
                if (!savepoints)
                {
                    // The group's only change was refused: roll back whatever of it was written.
                    return GroupOutcome.Done;
                }

                // With savepoints EF rolled the refused change back to its savepoint; the others stay.
            }

            if (unsaved && !await SaveSharedAsync(db))
            {
                return GroupOutcome.RetryWithSavepoints;
            }

            committing = true;
            await transaction.CommitAsync(CancellationToken.None);
        }
        catch (Exception exception) when (exception is DbException or DbUpdateException or InvalidOperationException or TimeoutException)
        {
            _storage.Failed(exception);
            // Start the next group on a fresh connection, whatever state this one was left in.
            CloseConnection();
            var failure = exception;
            if (transactionId is { } id && Database.StorageFault.Of(exception) == Database.StorageFaultKind.Unavailable)
            {
                if (!committing)
                {
                    // Never committed; but a backend that did not notice the loss would hold the log's lock.
                    _ = SettleLaterAsync(id, backend, batch.Count, unknownAnswered: false);
                }
                else
                {
                    switch (await _outcome.SettleAsync(id, backend, _outcomeWait, CancellationToken.None))
                    {
                        case true:
                            LogCommitSettled(id, batch.Count, "committed: the changes are acknowledged");
                            failure = null;
                            break;
                        case false:
                            LogCommitSettled(id, batch.Count, "not committed: the changes are refused as storage_unavailable");
                            break;
                        default:
                            failure = new CommitOutcomeUnknownException(id, (int)_outcomeWait.TotalSeconds);
                            _ = SettleLaterAsync(id, backend, batch.Count, unknownAnswered: true);
                            break;
                    }
                }
            }

            if (failure is not null)
            {
                // Not for a commit settled as committed: 4005 says what happened, and nothing was rolled back.
                LogBatchFailed(exception, batch.Count);
                foreach (var change in batch)
                {
                    // Every change of the group, also those the failure came before: none may wait forever.
                    change.Completion.TrySetException(failure);
                }

                return GroupOutcome.Done;
            }
        }

        _storage.Succeeded();
        _metrics.DatabaseOperation("changes", _time.GetElapsedTime(started));
        _metrics.EventsPersisted(events.Count);
        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _changes, done.Count);
        _follower.Committed(events);
        foreach (var (change, result) in done)
        {
            change.Completion.TrySetResult(result);
        }

        return GroupOutcome.Done;
    }

    /// <summary>
    /// Saves the shared changes run since the last save. False when the database refuses a row or a concurrency check
    /// fails: one of several changes did it, so the group is written again with each change saved on its own.
    /// </summary>
    private async Task<bool> SaveSharedAsync(GatewayDbContext db)
    {
        try
        {
            Interlocked.Increment(ref _saves);
            await SaveAsync(db);
            return true;
        }
        catch (DbUpdateException exception) when (exception is DbUpdateConcurrencyException || IsConstraint(exception, out _))
        {
            return false;
        }
    }

    private static Task<int> SaveAsync(GatewayDbContext db)
    {
        db.ChangeTracker.DetectChanges();
        return db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>
    /// A 409 for a row the database refused. The database's text names tables, columns and constraints, or is whatever
    /// an orchestrator's trigger says: it goes to the log under an error id, and the caller gets the id and the kind of rule.
    /// </summary>
    private ConflictException RefusedByDatabase(DbException constraint)
    {
        var errorId = Guid.NewGuid().ToString("N")[..12];
        var (code, rule) = constraint switch
        {
            SqliteException sqlite => ($"SQLite {sqlite.SqliteExtendedErrorCode}", sqlite.SqliteExtendedErrorCode switch
            {
                SqliteConstraintUnique or SqliteConstraintPrimaryKey or SqliteConstraintRowId => Rule.Unique,
                SqliteConstraintForeignKey => Rule.ForeignKey,
                SqliteConstraintCheck or SqliteConstraintNotNull or SqliteConstraintDataType => Rule.Value,
                SqliteConstraintTrigger => Rule.Trigger,
                _ => Rule.Other,
            }),
            PostgresException postgres => ($"PostgreSQL {postgres.SqlState}", postgres.SqlState switch
            {
                PostgresErrorCodes.UniqueViolation => Rule.Unique,
                PostgresErrorCodes.ForeignKeyViolation => Rule.ForeignKey,
                PostgresErrorCodes.CheckViolation or PostgresErrorCodes.NotNullViolation => Rule.Value,
                // Class 22, data exception: a value the column cannot take (out of range, too long, bad text).
                var state when state.StartsWith("22", StringComparison.Ordinal) => Rule.Value,
                PostgresErrorCodes.RaiseException => Rule.Trigger,
                _ => Rule.Other,
            }),
            _ => (constraint.GetType().Name, Rule.Other),
        };
        LogRefusedByDatabase(code, errorId, constraint.Message);
        return new ConflictException($"the database refused the change: {rule} (error id {errorId}, in the gateway's log with the database's reason)");
    }

    /// <summary>What each kind of refusal tells the caller.</summary>
    private static class Rule
    {
        public const string Unique = "a row with the same unique value exists";
        public const string ForeignKey = "a row it refers to does not exist, or another row still refers to it";
        public const string Value = "a value is outside what the schema allows";
        public const string Trigger = "a trigger of the database refused it";
        public const string Other = "a constraint of the schema refused it";
    }

    /// <summary>
    /// The database refused a row of the change itself: SQLITE_CONSTRAINT, or on PostgreSQL an integrity violation
    /// (class 23), a value it cannot take (class 22: out of range, bad text) or a trigger's RAISE (P0001).
    /// </summary>
    private static bool IsConstraint(DbUpdateException exception, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out DbException? constraint)
    {
        constraint = exception.InnerException switch
        {
            SqliteException { SqliteErrorCode: 19 } sqlite => sqlite,
            PostgresException postgres when postgres.SqlState.StartsWith("23", StringComparison.Ordinal)
                || postgres.SqlState.StartsWith("22", StringComparison.Ordinal) || postgres.SqlState == PostgresErrorCodes.RaiseException => postgres,
            _ => null,
        };
        return constraint is not null;
    }

    /// <summary>
    /// Settles a lost transaction in the background: ends a backend still holding it (and the log's lock), and logs how
    /// a transaction whose callers were told <c>commit_outcome_unknown</c> ended.
    /// </summary>
    private async Task SettleLaterAsync(long transactionId, int backend, int count, bool unknownAnswered)
    {
        try
        {
            var committed = await _outcome.SettleAsync(transactionId, backend, TimeSpan.FromMinutes(5), CancellationToken.None);
            if (unknownAnswered)
            {
                LogCommitSettled(transactionId, count, committed switch
                {
                    true => "committed, after its callers were told commit_outcome_unknown",
                    false => "not committed, after its callers were told commit_outcome_unknown",
                    null => "still unknown after five minutes",
                });
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            LogChangeFailed(exception);
        }
    }

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Transaction {TransactionId} of {Count} changes lost its connection during the commit; it was {Outcome}")]
    private partial void LogCommitSettled(long transactionId, int count, string outcome);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "A group of {Count} changes failed and was rolled back")]
    private partial void LogBatchFailed(Exception exception, int count);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "The database refused a change ({Code}, error id {ErrorId}): {Reason}")]
    private partial void LogRefusedByDatabase(string code, string errorId, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "A change failed unexpectedly and was rolled back to its savepoint")]
    private partial void LogChangeFailed(Exception exception);

    private enum GroupOutcome
    {
        Done,
        RetryWithSavepoints,
    }

    private sealed class PendingChange(Func<ChangeScope, CancellationToken, Task<object?>> run, ChangeSaving saving)
    {
        public Func<ChangeScope, CancellationToken, Task<object?>> Run { get; } = run;

        public ChangeSaving Saving { get; } = saving;

        public TaskCompletionSource<object?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
