using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

/// <summary>workflow_tasks (migration 20250115010200). No trigger: the rows are never updated in place.</summary>
internal sealed class WorkflowTaskConfiguration : IEntityTypeConfiguration<WorkflowTask>
{
    public void Configure(EntityTypeBuilder<WorkflowTask> builder)
    {
        builder.ToTable("workflow_tasks");
        builder.HasKey(link => new { link.WorkflowId, link.TaskId });

        builder.Property(link => link.WorkflowId).HasColumnName("workflow_id");
        builder.Property(link => link.TaskId).HasColumnName("task_id");
        builder.Property(link => link.Sequence).HasColumnName("sequence");
        builder.Property(link => link.CreatedAt).HasColumnName("created_at");

        // The relationships (both ON DELETE CASCADE) are configured from the principals' side.
    }
}
