using System.Data.Common;
using Gateway.Server.Database;

namespace Gateway.Server.Events;

/// <summary>
/// Settles a PostgreSQL transaction whose connection was lost, by its id: <c>pg_xact_status</c> says whether it
/// committed, which PostgreSQL documents for exactly this case (a COMMIT sent, its answer lost). A transaction still in
/// progress is a backend that has not noticed its client is gone (a cut network leaves it idle in its transaction,
/// holding the event log's lock, until TCP gives up on it hours later): it is ended with <c>pg_terminate_backend</c>,
/// which PostgreSQL allows for a backend of the same role, and asked about again.
/// </summary>
internal sealed partial class PostgresCommitOutcome(DatabaseConnections connections, TimeProvider time, ILogger<PostgresCommitOutcome> logger)
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// True when transaction <paramref name="transactionId"/> (of backend <paramref name="backendPid"/>) committed,
    /// false when it did not; null when the database could not say within <paramref name="within"/>.
    /// </summary>
    public async Task<bool?> SettleAsync(long transactionId, int backendPid, TimeSpan within, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            try
            {
                await using var connection = await connections.OpenAsync(cancellationToken);
                await using var status = connection.Command("SELECT pg_xact_status(@id::text::xid8)").With("id", transactionId);
                switch (await status.ExecuteScalarAsync(cancellationToken) as string)
                {
                    case "committed":
                        return true;
                    case "aborted":
                        return false;
                    case "in progress":
                        // Its backend still runs: end it (rolling back, or finishing a commit it already began) and ask again.
                        await using (var end = connection.Command(
                            "SELECT pg_terminate_backend(pid, 1000) FROM pg_stat_activity WHERE pid = @pid AND backend_xid::text = (@id % 4294967296)::text")
                            .With("pid", backendPid).With("id", transactionId))
                        {
                            await end.ExecuteNonQueryAsync(cancellationToken);
                        }

                        LogEnded(transactionId, backendPid);
                        break;
                    default:
                        // Older than the commit log PostgreSQL keeps: never the case for a transaction seconds old.
                        return null;
                }
            }
            catch (Exception exception) when (exception is DbException or TimeoutException)
            {
                LogNotYet(transactionId, exception.Message);
            }

            if (time.GetElapsedTime(started) + Pause > within)
            {
                return null;
            }

            await Task.Delay(Pause, time, cancellationToken);
        }
    }

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning, Message = "Ended backend {Pid}, still in transaction {TransactionId} after its connection was lost")]
    private partial void LogEnded(long transactionId, int pid);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Debug, Message = "Cannot ask yet whether transaction {TransactionId} committed: {Reason}")]
    private partial void LogNotYet(long transactionId, string reason);
}
