using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

/// <summary>gateway_events (Gateway's migration 20251125000000). Append-only: rows are inserted and pruned, never updated.</summary>
internal sealed class EventLogEntryConfiguration : IEntityTypeConfiguration<EventLogEntry>
{
    public void Configure(EntityTypeBuilder<EventLogEntry> builder)
    {
        builder.ToTable("gateway_events");
        builder.HasKey(entry => entry.Id);

        builder.Property(entry => entry.Id).HasColumnName("id").ValueGeneratedOnAdd();
        builder.Property(entry => entry.EventType).HasColumnName("event_type");
        builder.Property(entry => entry.Priority).HasColumnName("priority");
        builder.Property(entry => entry.TaskId).HasColumnName("task_id");
        builder.Property(entry => entry.WorkflowId).HasColumnName("workflow_id");
        builder.Property(entry => entry.ExecutionId).HasColumnName("execution_id");
        builder.Property(entry => entry.Payload).HasColumnName("payload");
        builder.Property(entry => entry.CreatedAt).HasColumnName("created_at");
    }
}
