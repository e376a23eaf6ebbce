using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

/// <summary>configurations (migration 20250115010500). Has the updated_at trigger.</summary>
internal sealed class ConfigurationEntryConfiguration : IEntityTypeConfiguration<ConfigurationEntry>
{
    public void Configure(EntityTypeBuilder<ConfigurationEntry> builder)
    {
        builder.ToTable("configurations", table => table.UseSqlReturningClause(false));
        builder.HasKey(entry => entry.Key);

        builder.Property(entry => entry.Key).HasColumnName("key");
        builder.Property(entry => entry.Value).HasColumnName("value");
        builder.Property(entry => entry.ValueType).HasColumnName("value_type");
        builder.Property(entry => entry.Description).HasColumnName("description");
        builder.Property(entry => entry.IsSecret).HasColumnName("is_secret");
        builder.Property(entry => entry.CreatedAt).HasColumnName("created_at");
        builder.Property(entry => entry.UpdatedAt).HasColumnName("updated_at").IsConcurrencyToken();
    }
}
