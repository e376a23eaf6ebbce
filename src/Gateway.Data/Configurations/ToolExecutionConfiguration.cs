using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

/// <summary>tool_executions (migration 20250115010300). No updated_at, no trigger.</summary>
internal sealed class ToolExecutionConfiguration : IEntityTypeConfiguration<ToolExecution>
{
    public void Configure(EntityTypeBuilder<ToolExecution> builder)
    {
        builder.ToTable("tool_executions");
        builder.HasKey(execution => execution.Id);

        builder.Property(execution => execution.Id).HasColumnName("id");
        builder.Property(execution => execution.TaskId).HasColumnName("task_id");
        builder.Property(execution => execution.ToolName).HasColumnName("tool_name");
        builder.Property(execution => execution.Arguments).HasColumnName("arguments");
        builder.Property(execution => execution.Output).HasColumnName("output");
        builder.Property(execution => execution.Status).HasColumnName("status");
        builder.Property(execution => execution.Error).HasColumnName("error");
        builder.Property(execution => execution.CreatedAt).HasColumnName("created_at");
        builder.Property(execution => execution.StartedAt).HasColumnName("started_at");
        builder.Property(execution => execution.CompletedAt).HasColumnName("completed_at");
        builder.Property(execution => execution.DurationMs).HasColumnName("duration_ms");

        // The relationship to tasks (ON DELETE CASCADE) is configured in AgentTaskConfiguration.
    }
}
