using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Gateway.Data.Interceptors;

/// <summary>
/// Statements prepared once on a long-lived connection and reused for every command EF Core sends with the same SQL.
/// EF Core creates a new command for each execution and Microsoft.Data.Sqlite prepares each new command again: on the
/// change writer's path (the same dozen statements thousands of times a second, the tasks trigger compiled into every
/// UPDATE) SQLite's parser and code generator took about a fifth of the gateway's CPU. EF Core still builds the SQL,
/// the parameters and the change tracking; only the prepared statement is reused. Opt-in per connection with
/// <see cref="Keep"/>; other connections are untouched.
/// </summary>
public static class PreparedStatements
{
    private static readonly ConditionalWeakTable<DbConnection, PreparedStatementCache> Caches = [];

    /// <summary>
    /// Keeps prepared statements for <paramref name="connection"/> (open, used by one caller at a time) until the
    /// returned handle is disposed. At most <paramref name="capacity"/> distinct statements; past that the cache starts
    /// over, so a stream of one-off SQL cannot grow it without bound.
    /// </summary>
    public static IDisposable Keep(SqliteConnection connection, int capacity = 128)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var cache = new PreparedStatementCache(connection, capacity);
        Caches.AddOrUpdate(connection, cache);
        return cache;
    }

    internal static PreparedStatementCache? Of(DbConnection? connection) =>
        connection is not null && Caches.TryGetValue(connection, out var cache) && !cache.IsDisposed ? cache : null;

    internal static void Forget(DbConnection connection) => Caches.Remove(connection);
}

/// <summary>The prepared commands of one connection, by SQL text; a command is lent to one execution at a time.</summary>
internal sealed class PreparedStatementCache(SqliteConnection connection, int capacity) : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SqliteCommand> _byText = new(StringComparer.Ordinal);
    private readonly HashSet<SqliteCommand> _lent = [];
    private readonly Dictionary<DbDataReader, SqliteCommand> _readers = new(ReferenceEqualityComparer.Instance);

    public bool IsDisposed { get; private set; }

    /// <summary>Statements prepared (one per distinct SQL text), executions that reused one, and executions left to EF Core's own command.</summary>
    public (int Prepared, int Reused, int Bypassed) Counts
    {
        get
        {
            lock (_gate)
            {
                return (_prepared, _reused, _bypassed);
            }
        }
    }

    private int _prepared;
    private int _reused;
    private int _bypassed;

    /// <summary>
    /// The prepared command for <paramref name="source"/>'s SQL with its parameters and transaction, or null when it
    /// cannot be lent (another execution of the same SQL is still reading, or the command is not plain SQL on this
    /// connection): the caller then runs EF Core's own command.
    /// </summary>
    public SqliteCommand? Lend(DbCommand source)
    {
        if (source is not SqliteCommand { CommandType: CommandType.Text } sqlite
            || !ReferenceEquals(sqlite.Connection, connection)
            || connection.State != ConnectionState.Open
            || string.IsNullOrEmpty(sqlite.CommandText))
        {
            return null;
        }

        SqliteCommand prepared;
        lock (_gate)
        {
            if (IsDisposed)
            {
                return null;
            }

            if (!_byText.TryGetValue(sqlite.CommandText, out prepared!))
            {
                if (_byText.Count >= capacity && _lent.Count == 0)
                {
                    DisposeCommands();
                }

                prepared = connection.CreateCommand();
                prepared.CommandText = sqlite.CommandText;
                _byText[sqlite.CommandText] = prepared;
                _prepared++;
            }
            else if (!_lent.Contains(prepared))
            {
                _reused++;
            }

            if (!_lent.Add(prepared))
            {
                _bypassed++;
                return null;
            }
        }

        // The parameter objects move over as they are (Microsoft.Data.Sqlite binds them by name at each execution).
        prepared.Parameters.Clear();
        foreach (SqliteParameter parameter in sqlite.Parameters)
        {
            prepared.Parameters.Add(parameter);
        }

        prepared.Transaction = sqlite.Transaction;
        prepared.CommandTimeout = sqlite.CommandTimeout;
        return prepared;
    }

    /// <summary>The command is free again once its reader is disposed.</summary>
    public void LentTo(SqliteCommand prepared, DbDataReader reader)
    {
        lock (_gate)
        {
            _readers[reader] = prepared;
        }
    }

    public void ReaderDisposed(DbDataReader reader)
    {
        lock (_gate)
        {
            if (_readers.Remove(reader, out var prepared))
            {
                Return(prepared);
            }
        }
    }

    /// <summary>
    /// Free for the next execution. Its parameters stay until then: a reader being disposed may still step the
    /// command's remaining statements, which bind them.
    /// </summary>
    public void Return(SqliteCommand prepared)
    {
        lock (_gate)
        {
            _lent.Remove(prepared);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            IsDisposed = true;
            DisposeCommands();
        }

        PreparedStatements.Forget(connection);
    }

    private void DisposeCommands()
    {
        foreach (var command in _byText.Values.Where(c => !_lent.Contains(c)))
        {
            command.Dispose();
        }

        _byText.Clear();
    }
}
