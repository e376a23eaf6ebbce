using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

/// <summary>tasks (migration 20250115010000). Has the updated_at trigger.</summary>
internal sealed class AgentTaskConfiguration : IEntityTypeConfiguration<AgentTask>
{
    public void Configure(EntityTypeBuilder<AgentTask> builder)
    {
        // The AFTER UPDATE trigger rewrites updated_at after the statement: RETURNING would report the value before it.
        builder.ToTable("tasks", table => table.UseSqlReturningClause(false));
        builder.HasKey(task => task.Id);

        builder.Property(task => task.Id).HasColumnName("id");
        builder.Property(task => task.Title).HasColumnName("title");
        builder.Property(task => task.Description).HasColumnName("description");
        builder.Property(task => task.TaskType).HasColumnName("task_type");
        builder.Property(task => task.Status).HasColumnName("status");
        builder.Property(task => task.Config).HasColumnName("config");
        builder.Property(task => task.Metadata).HasColumnName("metadata");
        builder.Property(task => task.WorkspacePath).HasColumnName("workspace_path");
        builder.Property(task => task.CreatedAt).HasColumnName("created_at");
        builder.Property(task => task.UpdatedAt).HasColumnName("updated_at").IsConcurrencyToken();
        builder.Property(task => task.StartedAt).HasColumnName("started_at");
        builder.Property(task => task.CompletedAt).HasColumnName("completed_at");
        builder.Property(task => task.Error).HasColumnName("error");

        builder.HasMany(task => task.ToolExecutions)
            .WithOne(execution => execution.AgentTask)
            .HasForeignKey(execution => execution.TaskId)
            .OnDelete(DeleteBehavior.Cascade);

        builder.HasMany(task => task.WorkflowTasks)
            .WithOne(link => link.AgentTask)
            .HasForeignKey(link => link.TaskId)
            .OnDelete(DeleteBehavior.Cascade);
    }
}
