using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

/// <summary>workflows (migration 20250115010100). Has the updated_at trigger.</summary>
internal sealed class WorkflowConfiguration : IEntityTypeConfiguration<Workflow>
{
    public void Configure(EntityTypeBuilder<Workflow> builder)
    {
        builder.ToTable("workflows", table => table.UseSqlReturningClause(false));
        builder.HasKey(workflow => workflow.Id);

        builder.Property(workflow => workflow.Id).HasColumnName("id");
        builder.Property(workflow => workflow.Name).HasColumnName("name");
        builder.Property(workflow => workflow.Description).HasColumnName("description");
        builder.Property(workflow => workflow.Definition).HasColumnName("definition");
        builder.Property(workflow => workflow.Status).HasColumnName("status");
        builder.Property(workflow => workflow.CreatedAt).HasColumnName("created_at");
        builder.Property(workflow => workflow.UpdatedAt).HasColumnName("updated_at").IsConcurrencyToken();

        builder.HasMany(workflow => workflow.Tasks)
            .WithOne(link => link.Workflow)
            .HasForeignKey(link => link.WorkflowId)
            .OnDelete(DeleteBehavior.Cascade);
    }
}
