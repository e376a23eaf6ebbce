using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Gateway.Data.Interceptors;

/// <summary>
/// Runs EF Core's commands on the connection's prepared statements (<see cref="PreparedStatements"/>) when the
/// connection keeps them; otherwise does nothing. SQLite executes synchronously whatever the API, so the async
/// overloads run the statement inline too, as Microsoft.Data.Sqlite's own async methods do.
/// </summary>
internal sealed class PreparedStatementInterceptor : DbCommandInterceptor
{
    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result) =>
        Run(command, result, static (prepared, cache) =>
        {
            // Lent until EF Core disposes the reader (DataReaderDisposing below).
            var reader = prepared.ExecuteReader();
            cache.LentTo(prepared, reader);
            return (DbDataReader)reader;
        }, returnAfter: false);

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(ReaderExecuting(command, eventData, result));
    }

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result) =>
        Run(command, result, static (prepared, _) => prepared.ExecuteNonQuery(), returnAfter: true);

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(NonQueryExecuting(command, eventData, result));
    }

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result) =>
        Run(command, result, static (prepared, _) => prepared.ExecuteScalar()!, returnAfter: true);

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(ScalarExecuting(command, eventData, result));
    }

    public override InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
    {
        PreparedStatements.Of(command.Connection)?.ReaderDisposed(eventData.DataReader);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="execute"/> on the prepared statement lent for <paramref name="command"/> and suppresses
    /// EF Core's own execution; leaves <paramref name="result"/> alone when the connection keeps no statements or
    /// this one is in use. The statement is given back after the call (<paramref name="returnAfter"/>), on failure,
    /// or, for a reader, when the reader is disposed.
    /// </summary>
    private static InterceptionResult<T> Run<T>(
        DbCommand command, InterceptionResult<T> result, Func<SqliteCommand, PreparedStatementCache, T> execute, bool returnAfter)
    {
        if (result.HasResult || PreparedStatements.Of(command.Connection) is not { } cache || cache.Lend(command) is not { } prepared)
        {
            return result;
        }

        T value;
        try
        {
            value = execute(prepared, cache);
        }
        catch
        {
            cache.Return(prepared);
            throw;
        }

        if (returnAfter)
        {
            cache.Return(prepared);
        }

        return InterceptionResult<T>.SuppressWithResult(value);
    }
}
