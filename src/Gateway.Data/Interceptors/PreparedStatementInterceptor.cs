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
    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        if (result.HasResult || PreparedStatements.Of(command.Connection) is not { } cache || cache.Lend(command) is not { } prepared)
        {
            return result;
        }

        SqliteDataReader reader;
        try
        {
            reader = prepared.ExecuteReader();
        }
        catch
        {
            cache.Return(prepared);
            throw;
        }

        cache.LentTo(prepared, reader);
        return InterceptionResult<DbDataReader>.SuppressWithResult(reader);
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(ReaderExecuting(command, eventData, result));
    }

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        if (result.HasResult || PreparedStatements.Of(command.Connection) is not { } cache || cache.Lend(command) is not { } prepared)
        {
            return result;
        }

        try
        {
            return InterceptionResult<int>.SuppressWithResult(prepared.ExecuteNonQuery());
        }
        finally
        {
            cache.Return(prepared);
        }
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(NonQueryExecuting(command, eventData, result));
    }

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        if (result.HasResult || PreparedStatements.Of(command.Connection) is not { } cache || cache.Lend(command) is not { } prepared)
        {
            return result;
        }

        try
        {
            return InterceptionResult<object>.SuppressWithResult(prepared.ExecuteScalar()!);
        }
        finally
        {
            cache.Return(prepared);
        }
    }

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
}
