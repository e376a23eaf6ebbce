using Gateway.Data.Conversion;
using Gateway.Data.Entities;

namespace Gateway.Data.Tests;

public sealed class UtcDateTimeConverterTests
{
    private static readonly DateTime Whole = new(2025, 1, 15, 10, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(0L, "2025-01-15 10:00:00")]
    [InlineData(1L, "2025-01-15 10:00:00.0000001")]
    [InlineData(1_234_567L, "2025-01-15 10:00:00.1234567")]
    [InlineData(5_000_000L, "2025-01-15 10:00:00.5")]
    [InlineData(1_200_000L, "2025-01-15 10:00:00.12")]
    public void Format_writes_the_datetime_now_layout_with_trimmed_fraction(long ticks, string expected)
    {
        Assert.Equal(expected, UtcDateTimeConverter.Format(Whole.AddTicks(ticks)));
        Assert.Matches(Timestamps.StoredPattern, expected);
    }

    [Fact]
    public void Format_converts_local_time_and_takes_unspecified_as_utc()
    {
        var local = Whole.ToLocalTime();
        Assert.Equal("2025-01-15 10:00:00", UtcDateTimeConverter.Format(local));
        Assert.Equal("2025-01-15 10:00:00", UtcDateTimeConverter.Format(DateTime.SpecifyKind(Whole, DateTimeKind.Unspecified)));
    }

    [Fact]
    public void Text_order_is_time_order()
    {
        var values = new[] { Whole, Whole.AddTicks(1), Whole.AddMilliseconds(5), Whole.AddSeconds(1), Whole.AddDays(1) };
        var texts = values.Select(UtcDateTimeConverter.Format).ToArray();
        Assert.Equal(texts.Order(StringComparer.Ordinal), texts);
    }

    [Theory]
    [InlineData("2025-01-15 10:00:00", 0L)]
    [InlineData("2025-01-15 10:00:00.1234567", 1_234_567L)]
    [InlineData("2025-01-15 10:00:00.120", 1_200_000L)]
    [InlineData("2025-01-15T10:00:00+00:00", 0L)]
    [InlineData("2025-01-15T10:00:00Z", 0L)]
    [InlineData("2025-01-15T10:00:00", 0L)]
    [InlineData("2025-01-15T10:00:00.123+00:00", 1_230_000L)]
    [InlineData("2025-01-15T10:00:00.123456Z", 1_234_560L)]
    [InlineData("2025-01-15T10:00:00.123456789+00:00", 1_234_567L)]
    [InlineData("2025-01-15T12:30:00+02:30", 0L)]
    [InlineData("2025-01-15T05:00:00-05:00", 0L)]
    [InlineData("2025-01-15 10:00:00+00:00", 0L)]
    [InlineData("2025-01-15 10:00", 0L)]
    [InlineData(" 2025-01-15 10:00:00 ", 0L)]
    public void Parse_reads_sqlite_and_chrono_forms_as_utc(string text, long ticks)
    {
        var value = UtcDateTimeConverter.Parse(text);
        Assert.Equal(Whole.AddTicks(ticks), value);
        Assert.Equal(DateTimeKind.Utc, value.Kind);
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("2025-13-01 00:00:00")]
    [InlineData("15/01/2025 10:00:00")]
    public void Parse_refuses_what_is_not_a_timestamp(string text)
        => Assert.Throws<FormatException>(() => UtcDateTimeConverter.Parse(text));

    [Fact]
    public void Converter_round_trips_every_tick()
    {
        var converter = new UtcDateTimeConverter();
        for (var ticks = 0L; ticks < 10_000_000L; ticks += 999_983L)
        {
            var value = Whole.AddTicks(ticks);
            var back = (DateTime)converter.ConvertFromProvider(converter.ConvertToProvider(value))!;
            Assert.Equal(value, back);
            Assert.Equal(DateTimeKind.Utc, back.Kind);
        }
    }

    [Fact]
    public void Store_enum_names_are_snake_case()
    {
        Assert.Equal("server_sent_events", StoreEnum.ToStoreValue(SessionConnectionType.ServerSentEvents));
        Assert.Equal("long_polling", StoreEnum.ToStoreValue(SessionConnectionType.LongPolling));
        Assert.Equal(SessionConnectionType.LongPolling, StoreEnum.FromStoreValue<SessionConnectionType>("long_polling"));
        Assert.Equal(["pending", "queued", "running", "paused", "completed", "failed", "cancelled"], StoreEnum.StoreValues<AgentTaskStatus>());
        Assert.Throws<InvalidOperationException>(() => StoreEnum.FromStoreValue<AgentTaskStatus>("Pending"));
        Assert.Throws<ArgumentOutOfRangeException>(() => StoreEnum.ToStoreValue((AgentTaskStatus)99));
    }
}
