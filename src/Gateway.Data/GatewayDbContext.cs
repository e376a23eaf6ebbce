using Gateway.Data.Conversion;
using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Gateway.Data;

/// <summary>
/// EF Core over the orchestrator's six tables, one model for SQLite and PostgreSQL. The schema belongs to the SQL
/// migrations (migrations/sqlite, migrations/postgres): never call <c>EnsureCreated</c> or EF migrations on it.
/// Configure with <see cref="GatewayDataServiceCollectionExtensions.AddGatewayDbContext"/>,
/// <see cref="GatewayDbContextOptionsExtensions.UseGatewaySqlite"/> or
/// <see cref="GatewayDbContextOptionsExtensions.UseGatewayPostgres"/>, which add the timestamp and connection interceptors.
/// </summary>
public sealed class GatewayDbContext(DbContextOptions<GatewayDbContext> options) : DbContext(options)
{
    public DbSet<AgentTask> Tasks => Set<AgentTask>();

    public DbSet<Workflow> Workflows => Set<Workflow>();

    public DbSet<WorkflowTask> WorkflowTasks => Set<WorkflowTask>();

    public DbSet<ToolExecution> ToolExecutions => Set<ToolExecution>();

    public DbSet<GatewaySession> Sessions => Set<GatewaySession>();

    public DbSet<ConfigurationEntry> Configurations => Set<ConfigurationEntry>();

    /// <summary>Gateway's event log (its own migration set, <c>migrations/gateway/sqlite</c>).</summary>
    public DbSet<EventLogEntry> Events => Set<EventLogEntry>();

    /// <summary>Who created each workflow through the gateway (Gateway's own migration set).</summary>
    public DbSet<WorkflowOwner> WorkflowOwners => Set<WorkflowOwner>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);

        if (Database.IsNpgsql())
        {
            // TIMESTAMPTZ: UTC at PostgreSQL's microsecond precision (see UtcMicrosecondConverter).
            configurationBuilder.Properties<DateTime>().HaveConversion<UtcMicrosecondConverter>();
            configurationBuilder.Properties<DateTime?>().HaveConversion<UtcMicrosecondConverter>();
        }
        else
        {
            // Every timestamp column is TEXT in one layout (see UtcDateTimeConverter); nullable ones too.
            configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
            configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
        }

        // Enum columns hold the snake_case names their CHECK constraints list.
        configurationBuilder.Properties<AgentTaskStatus>().HaveConversion<StoreEnumConverter<AgentTaskStatus>>();
        configurationBuilder.Properties<WorkflowStatus>().HaveConversion<StoreEnumConverter<WorkflowStatus>>();
        configurationBuilder.Properties<ToolExecutionStatus>().HaveConversion<StoreEnumConverter<ToolExecutionStatus>>();
        configurationBuilder.Properties<SessionConnectionType>().HaveConversion<StoreEnumConverter<SessionConnectionType>>();
        configurationBuilder.Properties<ConfigurationValueType>().HaveConversion<StoreEnumConverter<ConfigurationValueType>>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(GatewayDbContext).Assembly);
    }
}
