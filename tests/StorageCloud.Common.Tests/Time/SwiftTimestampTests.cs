using StorageCloud.Common.Tests.Vectors;
using StorageCloud.Common.Time;

namespace StorageCloud.Common.Tests.Time;

public class SwiftTimestampTests
{
    [Fact]
    public void Formats_match_swift_for_every_reference_vector()
    {
        var root = ReferenceVectors.Load("timestamps.json");
        var count = 0;
        foreach (var v in root.GetProperty("vectors").EnumerateArray())
        {
            var input = v.GetProperty("input").GetString()!;
            var ts = SwiftTimestamp.Parse(input);
            Assert.Equal(v.GetProperty("normal").GetString(), ts.Normal);
            Assert.Equal(v.GetProperty("internal").GetString(), ts.Internal);
            Assert.Equal(v.GetProperty("short").GetString(), ts.Short);
            Assert.Equal(v.GetProperty("isoformat").GetString(), ts.IsoFormat);
            Assert.Equal(v.GetProperty("ceil").GetInt64(), ts.CeilingSeconds);
            Assert.Equal(v.GetProperty("offset").GetUInt64(), ts.Offset);
            count++;
        }
        Assert.True(count > 100, $"only {count} vectors");
    }

    [Fact]
    public void Rejects_what_swift_rejects()
    {
        var root = ReferenceVectors.Load("timestamps.json");
        foreach (var v in root.GetProperty("invalid").EnumerateArray())
        {
            var input = v.GetProperty("input").GetString()!;
            Assert.Equal(v.GetProperty("valid").GetBoolean(), SwiftTimestamp.TryParse(input, out _, out _));
        }
    }

    [Fact]
    public void Orders_as_swift_orders()
    {
        var root = ReferenceVectors.Load("timestamps.json");
        var expected = root.GetProperty("sorted").EnumerateArray().Select(e => e.GetString()!).ToList();
        var shuffled = expected.OrderBy(s => s.GetHashCode()).ToList();
        var ours = shuffled.OrderBy(SwiftTimestamp.Parse).Select(s => SwiftTimestamp.Parse(s).Internal).ToList();
        Assert.Equal(expected.Select(s => SwiftTimestamp.Parse(s).Internal), ours);
    }

    [Fact]
    public void Internal_string_order_equals_value_order()
    {
        var a = SwiftTimestamp.Parse("1700000000.12345");
        var b = a.WithOffset(1);
        var c = SwiftTimestamp.Parse("1700000000.12346");
        Assert.True(a < b && b < c);
        Assert.True(string.CompareOrdinal(a.Internal, b.Internal) < 0);
        Assert.True(string.CompareOrdinal(b.Internal, c.Internal) < 0);
        Assert.Equal("1700000000.12345_0000000000000001", b.Internal);
        Assert.Equal(b, SwiftTimestamp.Parse(b.Internal));
    }

    [Fact]
    public void Header_errors_use_swifts_bodies()
    {
        Assert.False(SwiftTimestamp.TryParseHeader(null, out _, out var missing));
        Assert.Equal("Missing X-Timestamp header", missing);
        Assert.False(SwiftTimestamp.TryParseHeader("yesterday", out _, out var invalid));
        Assert.Equal("Invalid X-Timestamp header", invalid);
        Assert.True(SwiftTimestamp.TryParseHeader("1700000000.00001", out var ok, out _));
        Assert.Equal(170000000000001L, ok.Ticks);
    }

    [Fact]
    public void Now_is_current_and_delta_moves_by_ticks()
    {
        var now = SwiftTimestamp.Now();
        var unix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.InRange(now.Seconds, unix - 5, unix + 5);
        Assert.Equal(now.Ticks + 3, now.AddTicks(3).Ticks);
        Assert.Throws<ArgumentOutOfRangeException>(() => SwiftTimestamp.Zero.AddTicks(-1));
    }
}
