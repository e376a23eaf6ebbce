using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Gateway.Data.Interceptors;

/// <summary>
/// Sets the timestamps the application owns, from an injectable <see cref="TimeProvider"/>, just before SaveChanges
/// writes:
/// <list type="bullet">
/// <item>Added entities: <c>CreatedAt</c>, <c>UpdatedAt</c> and <c>LastHeartbeat</c> get the clock's UTC time when
/// still <c>default</c> (EF always sends the column, so the schema's <c>datetime('now')</c> defaults never apply).</item>
/// <item>Modified entities with <c>UpdatedAt</c> (the four trigger tables): <c>UpdatedAt</c> gets the clock's time,
/// always, overriding a value the caller set. It is moved at least one tick past the value read, so the
/// column always changes: the AFTER UPDATE trigger, which fires only when updated_at is unchanged, then leaves
/// it alone and the tracked entity holds what the row holds (and what the next concurrency check compares).</item>
/// </list>
/// </summary>
/// <remarks>
/// <paramref name="resolution"/> is the column's precision in ticks (1 on SQLite's text, 10 on PostgreSQL's
/// microseconds): the clock is cut to it and the step past the value read is one unit of it, so the tracked entity
/// holds exactly what the row holds.
/// </remarks>
internal sealed class TimestampInterceptor(TimeProvider timeProvider, long resolution = 1) : SaveChangesInterceptor
{
    internal const string CreatedAt = "CreatedAt";
    internal const string UpdatedAt = "UpdatedAt";
    internal const string LastHeartbeat = "LastHeartbeat";

    private static readonly string[] SetOnInsert = [CreatedAt, UpdatedAt, LastHeartbeat];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Stamp(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData,
        InterceptionResult<int> result,
        CancellationToken cancellationToken = default)
    {
        Stamp(eventData.Context);
        return ValueTask.FromResult(result);
    }

    private void Stamp(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        var clock = timeProvider.GetUtcNow().UtcDateTime;
        var now = new DateTime(clock.Ticks - (clock.Ticks % resolution), DateTimeKind.Utc);
        foreach (var entry in context.ChangeTracker.Entries())
        {
            switch (entry.State)
            {
                case EntityState.Added:
                    foreach (var property in StampedProperties.Of(entry.Metadata).OnInsert)
                    {
                        var value = entry.Property(property);
                        if ((DateTime)value.CurrentValue! == default)
                        {
                            value.CurrentValue = now;
                        }
                    }

                    break;

                case EntityState.Modified:
                    if (StampedProperties.Of(entry.Metadata).UpdatedAt is { } updatedAtProperty)
                    {
                        var updatedAt = entry.Property(updatedAtProperty);
                        var previous = (DateTime)updatedAt.OriginalValue!;
                        updatedAt.CurrentValue = now > previous ? now : previous.AddTicks(resolution);
                        updatedAt.IsModified = true;
                    }

                    break;

                default:
                    break;
            }

            if (resolution > 1 && entry.State is EntityState.Added or EntityState.Modified)
            {
                CutToResolution(entry);
            }
        }
    }

    /// <summary>Every timestamp the caller set, cut to the column's precision: the tracked entity holds what the row will.</summary>
    private void CutToResolution(Microsoft.EntityFrameworkCore.ChangeTracking.EntityEntry entry)
    {
        foreach (var property in StampedProperties.Of(entry.Metadata).All)
        {
            var value = entry.Property(property);
            if (value.CurrentValue is DateTime at && at.Ticks % resolution != 0)
            {
                value.CurrentValue = new DateTime(at.Ticks - (at.Ticks % resolution), at.Kind);
            }
        }
    }

    /// <summary>
    /// The DateTime properties an entity type has of <see cref="SetOnInsert"/> and <see cref="UpdatedAt"/>, found once per
    /// type (a model's entity types do not change): looking them up by name for every entry of every save showed in
    /// profiles of the change writer.
    /// </summary>
    private sealed record StampedProperties(IProperty[] OnInsert, IProperty? UpdatedAt, IProperty[] All)
    {
        private static readonly ConditionalWeakTable<IEntityType, StampedProperties> ByType = [];

        public static StampedProperties Of(IEntityType type) =>
            ByType.GetValue(type, static type => new StampedProperties(
                [.. SetOnInsert.Select(name => DateTimeProperty(type, name)).OfType<IProperty>()],
                DateTimeProperty(type, TimestampInterceptor.UpdatedAt),
                [.. type.GetProperties().Where(property => property.ClrType == typeof(DateTime) || property.ClrType == typeof(DateTime?))]));

        private static IProperty? DateTimeProperty(IEntityType type, string name) =>
            type.FindProperty(name) is { ClrType: var clrType } property && clrType == typeof(DateTime) ? property : null;
    }
}
