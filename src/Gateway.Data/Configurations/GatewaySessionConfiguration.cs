using Gateway.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Gateway.Data.Configurations;

/// <summary>sessions (migration 20250115010400). Has the updated_at trigger.</summary>
internal sealed class GatewaySessionConfiguration : IEntityTypeConfiguration<GatewaySession>
{
    public void Configure(EntityTypeBuilder<GatewaySession> builder)
    {
        builder.ToTable("sessions", table => table.UseSqlReturningClause(false));
        builder.HasKey(session => session.Id);

        builder.Property(session => session.Id).HasColumnName("id");
        builder.Property(session => session.ClientId).HasColumnName("client_id");
        builder.Property(session => session.UserId).HasColumnName("user_id");
        builder.Property(session => session.ConnectionType).HasColumnName("connection_type");
        builder.Property(session => session.IsActive).HasColumnName("is_active");
        builder.Property(session => session.Metadata).HasColumnName("metadata");
        builder.Property(session => session.CreatedAt).HasColumnName("created_at");
        builder.Property(session => session.UpdatedAt).HasColumnName("updated_at").IsConcurrencyToken();
        builder.Property(session => session.LastHeartbeat).HasColumnName("last_heartbeat");
    }
}
