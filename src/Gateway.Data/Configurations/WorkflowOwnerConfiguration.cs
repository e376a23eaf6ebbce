using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

/// <summary>gateway_workflow_owners (Gateway's migration 20261201000000). Inserted with its workflow, never updated.</summary>
internal sealed class WorkflowOwnerConfiguration : IEntityTypeConfiguration<WorkflowOwner>
{
    public void Configure(EntityTypeBuilder<WorkflowOwner> builder)
    {
        builder.ToTable("gateway_workflow_owners");
        builder.HasKey(owner => owner.WorkflowId);

        builder.Property(owner => owner.WorkflowId).HasColumnName("workflow_id");
        builder.Property(owner => owner.CreatedBy).HasColumnName("created_by");
        builder.Property(owner => owner.CreatedAt).HasColumnName("created_at");
    }
}
