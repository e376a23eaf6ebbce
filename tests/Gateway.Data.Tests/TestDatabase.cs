using System.Globalization;
using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Gateway.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Data.Tests;

/// <summary>
/// One migrated temporary SQLite file per test, a raw connection for checks in SQL, a fake clock, and
/// <see cref="GatewayDbContext"/> as <see cref="GatewayDataServiceCollectionExtensions.AddGatewayDbContext"/> registers it.
/// <see cref="Token"/> bounds every await of the test.
/// </summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    /// <summary>A past instant with sub-second digits, so the trigger's datetime('now') is always later.</summary>
    public static readonly DateTime ClockStart = new DateTime(2025, 1, 15, 10, 0, 0, DateTimeKind.Utc).AddTicks(1_234_567);

    private readonly TemporarySqliteFile _file;
    private readonly ServiceProvider _services;
    private readonly CancellationTokenSource _timeout;

    private TestDatabase(TemporarySqliteFile file, SqliteConnection raw, ServiceProvider services, FakeTimeProvider clock, CancellationTokenSource timeout)
    {
        _file = file;
        Raw = raw;
        _services = services;
        Clock = clock;
        _timeout = timeout;
        Factory = services.GetRequiredService<IDbContextFactory<GatewayDbContext>>();
    }

    public SqliteConnection Raw { get; }

    public FakeTimeProvider Clock { get; }

    public IDbContextFactory<GatewayDbContext> Factory { get; }

    public IServiceProvider Services => _services;

    public CancellationToken Token => _timeout.Token;

    public string Path => _file.Path;

    /// <param name="connectionString">Builds the context's connection string from the file; the file's own (Foreign Keys=True) by default.</param>
    public static async Task<TestDatabase> CreateAsync(Func<TemporarySqliteFile, string>? connectionString = null)
    {
        var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var file = new TemporarySqliteFile();
        try
        {
            var raw = await file.OpenFullyMigratedAsync(timeout.Token);
            var clock = new FakeTimeProvider(new DateTimeOffset(ClockStart));
            var services = new ServiceCollection()
                .AddSingleton<TimeProvider>(clock)
                .AddGatewayDbContext(connectionString?.Invoke(file) ?? file.ConnectionString)
                .BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
            return new TestDatabase(file, raw, services, clock, timeout);
        }
        catch
        {
            file.Dispose();
            timeout.Dispose();
            throw;
        }
    }

    public GatewayDbContext NewContext() => Factory.CreateDbContext();

    public async Task<object?> ScalarAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        var value = await command.ExecuteScalarAsync(Token);
        return value is DBNull ? null : value;
    }

    public async Task<string?> TextAsync(string sql, params (string Name, object? Value)[] parameters)
        => (string?)await ScalarAsync(sql, parameters);

    public async Task<long> LongAsync(string sql, params (string Name, object? Value)[] parameters)
        => Convert.ToInt64(await ScalarAsync(sql, parameters), CultureInfo.InvariantCulture);

    public async Task<int> ExecuteAsync(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync(Token);
    }

    /// <summary>Adds a task (and saves) through EF.</summary>
    public async Task<AgentTask> AddTaskAsync(string id)
    {
        var task = new AgentTask { Id = id, Title = "title " + id, TaskType = "build" };
        await using var context = NewContext();
        context.Tasks.Add(task);
        await context.SaveChangesAsync(Token);
        return task;
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Raw.DisposeAsync();
        _file.Dispose();
        _timeout.Dispose();
    }

    private SqliteCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        var command = Raw.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}

internal static class Timestamps
{
    /// <summary>The layout of datetime('now'), with an optional fraction of up to seven digits (no trailing zero).</summary>
    public const string StoredPattern = @"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{0,6}[1-9])?$";

    public static string Stored(DateTime value) => UtcDateTimeConverter.Format(value);
}
