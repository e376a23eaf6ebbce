using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Gateway.Data.Interceptors;

/// <summary>
/// Per-connection SQLite settings, run each time EF opens a connection (a pooled physical connection keeps them,
/// running them again is cheap). <c>synchronous = NORMAL</c> is safe with WAL (a crash can lose the last commits,
/// never corrupt the file) and is not stored in the file, unlike <c>journal_mode = WAL</c>, which the migration step
/// sets once. Foreign keys come from the connection string's <c>Foreign Keys=True</c> (see
/// <see cref="GatewayDataServiceCollectionExtensions.AddGatewayDbContext"/>).
/// </summary>
internal sealed class SqliteConnectionInterceptor : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) =>
        GatewaySqliteSettings.Apply(connection);

    public override async Task ConnectionOpenedAsync(
        DbConnection connection,
        ConnectionEndEventData eventData,
        CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = GatewaySqliteSettings.PragmaSql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>The per-connection settings, for a connection the caller opens itself (EF Core's interceptor runs them on the ones it opens).</summary>
public static class GatewaySqliteSettings
{
    internal const string PragmaSql = "PRAGMA synchronous = NORMAL;";

    public static void Apply(DbConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = PragmaSql;
        command.ExecuteNonQuery();
    }
}
