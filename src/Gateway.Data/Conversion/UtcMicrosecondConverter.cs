using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Gateway.Data.Conversion;

/// <summary>
/// UTC <see cref="DateTime"/> on PostgreSQL's <c>TIMESTAMPTZ</c>: written as UTC (Npgsql refuses another kind) cut to
/// whole microseconds, the column's precision, so a value written is the value read back (and an <c>updated_at</c>
/// concurrency token compares equal); read as <see cref="DateTimeKind.Utc"/>.
/// </summary>
public sealed class UtcMicrosecondConverter : ValueConverter<DateTime, DateTime>
{
    /// <summary>A tick is 100 ns: ten of them are PostgreSQL's resolution.</summary>
    public const long TicksPerMicrosecond = 10;

    public UtcMicrosecondConverter()
        : base(value => ToStore(value), stored => DateTime.SpecifyKind(stored, DateTimeKind.Utc))
    {
    }

    /// <summary>The value as the column keeps it: UTC (a value without a kind is taken as UTC), whole microseconds.</summary>
    public static DateTime ToStore(DateTime value)
    {
        var utc = value.Kind switch
        {
            DateTimeKind.Utc => value,
            DateTimeKind.Local => value.ToUniversalTime(),
            _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
        };
        return new DateTime(utc.Ticks - (utc.Ticks % TicksPerMicrosecond), DateTimeKind.Utc);
    }
}
