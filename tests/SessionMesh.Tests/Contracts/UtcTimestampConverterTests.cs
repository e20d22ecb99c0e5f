using System.Globalization;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using SessionMesh.Contracts;

namespace SessionMesh.Tests.Contracts;

/// <summary>The wire format of times: RFC 3339 UTC, milliseconds truncated, whatever the offset and the ticks below a millisecond.</summary>
public sealed class UtcTimestampConverterTests
{
    private static readonly JsonSerializerOptions s_options = new() { Converters = { new UtcTimestampConverter() } };

    /// <summary>Any instant from year 1 to 9999, at any whole-minute offset that keeps it in range.</summary>
    private static readonly Gen<DateTimeOffset> s_times =
        from ticks in Gen.Choose(0, int.MaxValue).Two().Select(t => ((long)t.Item1 << 31 | (uint)t.Item2) % DateTime.MaxValue.Ticks)
        from minutes in Gen.Choose(-14 * 60, 14 * 60)
        let utc = new DateTimeOffset(ticks, TimeSpan.Zero)
        let offset = TimeSpan.FromMinutes(minutes)
        where utc.UtcDateTime.Ticks + offset.Ticks is >= 0 && utc.UtcDateTime.Ticks + offset.Ticks <= DateTime.MaxValue.Ticks
        select utc.ToOffset(offset);

    [Fact]
    public void Any_time_is_written_as_its_utc_instant_to_the_millisecond()
    {
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000).WithQuietOnSuccess(true), Prop.ForAll(s_times.ToArbitrary(), time =>
        {
            var expected = time.UtcDateTime.ToString(UtcTimestampConverter.Format, CultureInfo.InvariantCulture);
            Assert.Equal($"\"{expected}\"", JsonSerializer.Serialize(time, s_options));
        }));
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00.0000000+00:00", "0001-01-01T00:00:00.000Z")]
    [InlineData("9999-12-31T23:59:59.9999999+00:00", "9999-12-31T23:59:59.999Z")]
    [InlineData("2026-11-25T23:38:53.1209999+02:00", "2026-11-25T21:38:53.120Z")]
    public void Edge_times_are_truncated_not_rounded(string time, string wire)
    {
        var value = DateTimeOffset.Parse(time, CultureInfo.InvariantCulture);

        Assert.Equal($"\"{wire}\"", JsonSerializer.Serialize(value, s_options));
        Assert.Equal(value.ToUniversalTime().AddTicks(-(value.Ticks % TimeSpan.TicksPerMillisecond)), JsonSerializer.Deserialize<DateTimeOffset>($"\"{wire}\"", s_options));
    }
}
