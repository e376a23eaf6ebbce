using Gateway.Data.Entities;
using Gateway.Data.Interceptors;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data.Tests;

/// <summary>
/// EF Core commands on a connection that keeps prepared statements: the same SQL is prepared once and reused, with
/// each execution's own parameters and transaction; a statement still being read is not lent twice; a refused
/// statement does not poison the cache; connections that did not opt in are untouched.
/// </summary>
public sealed class PreparedStatementTests
{
    /// <summary>A migrated database and a connection to it that keeps prepared statements.</summary>
    private sealed class Kept : IAsyncDisposable
    {
        private readonly IDisposable _statements;

        private Kept(TestDatabase db, SqliteConnection connection)
        {
            Db = db;
            Connection = connection;
            _statements = PreparedStatements.Keep(connection);
        }

        public TestDatabase Db { get; }

        public SqliteConnection Connection { get; }

        public CancellationToken Token => Db.Token;

        public (int Prepared, int Reused, int Bypassed) Counts => PreparedStatements.Of(Connection)!.Counts;

        public static async Task<Kept> OpenAsync()
        {
            var db = await TestDatabase.CreateAsync();
            await using var probe = db.NewContext();
            var connection = new SqliteConnection(probe.Database.GetConnectionString());
            await connection.OpenAsync(db.Token);
            return new Kept(db, connection);
        }

        public GatewayDbContext Context()
        {
            var context = Db.NewContext();
            context.Database.SetDbConnection(Connection, contextOwnsConnection: false);
            return context;
        }

        public async ValueTask DisposeAsync()
        {
            _statements.Dispose();
            await Connection.DisposeAsync();
            await Db.DisposeAsync();
        }
    }

    private static AgentTask NewTask(string title) => new()
    {
        Id = Guid.NewGuid().ToString(),
        Title = title,
        TaskType = "indexing",
        Status = AgentTaskStatus.Pending,
    };

    [Fact]
    public async Task The_same_sql_is_prepared_once_and_each_execution_gets_its_own_parameters()
    {
        await using var kept = await Kept.OpenAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            await using var context = kept.Context();
            var task = NewTask($"task {i}");
            context.Tasks.Add(task);
            await context.SaveChangesAsync(kept.Token);
            ids.Add(task.Id);
        }

        var titles = new List<string>();
        foreach (var id in ids)
        {
            await using var context = kept.Context();
            titles.Add((await context.Tasks.AsNoTracking().SingleAsync(t => t.Id == id, kept.Token)).Title);
        }

        Assert.Equal(["task 0", "task 1", "task 2", "task 3", "task 4"], titles);
        Assert.Equal(5L, await kept.Db.ScalarAsync("SELECT COUNT(*) FROM tasks"));
        var (prepared, reused, bypassed) = kept.Counts;
        Assert.Equal(2, prepared);
        Assert.Equal(8, reused);
        Assert.Equal(0, bypassed);
    }

    [Fact]
    public async Task A_statement_still_being_read_is_not_lent_again_and_both_readers_see_their_rows()
    {
        await using var kept = await Kept.OpenAsync();
        await using (var seed = kept.Context())
        {
            seed.Tasks.AddRange(NewTask("a"), NewTask("b"), NewTask("c"));
            await seed.SaveChangesAsync(kept.Token);
        }

        await using var context = kept.Context();
        var pairs = new List<(string Outer, int Inner)>();
        await foreach (var outer in context.Tasks.AsNoTracking().OrderBy(t => t.Title).AsAsyncEnumerable().WithCancellation(kept.Token))
        {
            // Other SQL, then the outer query's own SQL while its reader is open: EF Core's own command runs that one.
            var inner = await context.Tasks.AsNoTracking().OrderBy(t => t.Title).CountAsync(kept.Token);
            var again = await context.Tasks.AsNoTracking().OrderBy(t => t.Title).ToListAsync(kept.Token);
            pairs.Add((outer.Title, inner + again.Count));
        }

        Assert.Equal([("a", 6), ("b", 6), ("c", 6)], pairs);
        Assert.True(kept.Counts.Bypassed >= 3, $"counts {kept.Counts}");
    }

    [Fact]
    public async Task A_refused_statement_is_returned_and_the_next_execution_of_it_works()
    {
        await using var kept = await Kept.OpenAsync();
        var task = NewTask("first");
        await using (var context = kept.Context())
        {
            context.Tasks.Add(task);
            await context.SaveChangesAsync(kept.Token);
        }

        await using (var context = kept.Context())
        {
            // The same id again: the primary key refuses the INSERT on the prepared statement.
            context.Tasks.Add(new AgentTask { Id = task.Id, Title = "duplicate", TaskType = "indexing", Status = AgentTaskStatus.Pending });
            var refused = await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync(kept.Token));
            Assert.IsType<SqliteException>(refused.InnerException);
        }

        await using (var context = kept.Context())
        {
            context.Tasks.Add(NewTask("second"));
            await context.SaveChangesAsync(kept.Token);
        }

        Assert.Equal(2L, await kept.Db.ScalarAsync("SELECT COUNT(*) FROM tasks"));
        Assert.Equal("first", await kept.Db.TextAsync("SELECT title FROM tasks WHERE id = $id", ("$id", task.Id)));
    }

    [Fact]
    public async Task A_rolled_back_transaction_on_prepared_statements_leaves_nothing()
    {
        await using var kept = await Kept.OpenAsync();
        await using (var context = kept.Context())
        {
            await using var transaction = await context.Database.BeginTransactionAsync(kept.Token);
            context.Tasks.Add(NewTask("kept?"));
            await context.SaveChangesAsync(kept.Token);
            await transaction.RollbackAsync(kept.Token);
        }

        await using (var context = kept.Context())
        {
            await using var transaction = await context.Database.BeginTransactionAsync(kept.Token);
            context.Tasks.Add(NewTask("committed"));
            await context.SaveChangesAsync(kept.Token);
            await transaction.CommitAsync(kept.Token);
        }

        Assert.Equal("committed", await kept.Db.TextAsync("SELECT group_concat(title) FROM tasks"));
        Assert.True(kept.Counts.Reused >= 1, $"counts {kept.Counts}");
    }

    [Fact]
    public async Task Connections_that_did_not_opt_in_keep_no_statements()
    {
        await using var kept = await Kept.OpenAsync();
        await using var context = kept.Db.NewContext();
        context.Tasks.Add(NewTask("elsewhere"));
        await context.SaveChangesAsync(kept.Token);

        Assert.Null(PreparedStatements.Of(context.Database.GetDbConnection()));
        Assert.Equal((0, 0, 0), kept.Counts);
    }
}
