using System.Text;
using StorageCloud.Common.Hashing;

namespace StorageCloud.Common.Tests.Hashing;

public class Crc32CTests
{
    // RFC 3720, appendix B.4.
    public static TheoryData<byte[], uint> Rfc3720 => new()
    {
        { new byte[32], 0x8A9136AA },
        { Enumerable.Repeat((byte)0xFF, 32).ToArray(), 0x62A8AB43 },
        { Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), 0x46DD794E },
        { Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray(), 0x113FDB5C },
        {
            new byte[]
            {
                0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
                0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            },
            0xD9963A56
        },
        { Encoding.ASCII.GetBytes("123456789"), 0xE3069283 },
        { Array.Empty<byte>(), 0x00000000 },
    };

    [Theory]
    [MemberData(nameof(Rfc3720))]
    public void Matches_rfc3720_vectors(byte[] data, uint expected)
    {
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.AppendSoftware(0, data));
    }

    [Fact]
    public void Hardware_and_software_agree_on_every_length_and_alignment()
    {
        var random = new Random(7);
        var buffer = new byte[4096 + 64];
        random.NextBytes(buffer);
        for (var length = 0; length < 300; length++)
        {
            for (var start = 0; start < 9; start++)
            {
                var slice = buffer.AsSpan(start, length);
                Assert.Equal(Crc32C.AppendSoftware(0, slice), Crc32C.Compute(slice));
            }
        }
        Assert.Equal(Crc32C.AppendSoftware(0, buffer), Crc32C.Compute(buffer));
    }

    [Fact]
    public void Appending_in_pieces_equals_one_pass()
    {
        var data = new byte[100_000];
        new Random(1).NextBytes(data);
        var whole = Crc32C.Compute(data);
        uint crc = 0;
        for (var offset = 0; offset < data.Length; offset += 777)
            crc = Crc32C.Append(crc, data.AsSpan(offset, Math.Min(777, data.Length - offset)));
        Assert.Equal(whole, crc);
    }

    [Fact]
    public void Combining_two_crcs_equals_the_crc_of_both_pieces()
    {
        var random = new Random(5);
        var data = new byte[70_000];
        random.NextBytes(data);
        foreach (var (a, b) in new[] { (0, 0), (0, 1), (1, 0), (7, 4096), (4096, 4096), (13, 65_536), (69_000, 1000), (3, 69_997) })
        {
            var whole = Crc32C.Compute(data.AsSpan(0, a + b));
            Assert.Equal(whole, Crc32C.Combine(Crc32C.Compute(data.AsSpan(0, a)), Crc32C.Compute(data.AsSpan(a, b)), b));
            Assert.Equal(whole, Crc32C.Combine(Crc32C.Compute(data.AsSpan(0, a)), Crc32C.Compute(data.AsSpan(a, b)), Crc32C.ShiftOperator(b)));
        }
        // Pages combined one by one, as chunk records are, give the record's CRC.
        var pages = Crc32C.Compute(data.AsSpan(0, 4096));
        var shift = Crc32C.ShiftOperator(4096);
        for (var page = 1; page < 17; page++) pages = Crc32C.Combine(pages, Crc32C.Compute(data.AsSpan(page * 4096, 4096)), shift);
        Assert.Equal(Crc32C.Compute(data.AsSpan(0, 17 * 4096)), pages);
    }

    [Fact]
    public void Detects_a_single_flipped_bit()
    {
        var data = new byte[8192];
        new Random(3).NextBytes(data);
        var good = Crc32C.Compute(data);
        data[4000] ^= 0x10;
        Assert.NotEqual(good, Crc32C.Compute(data));
    }
}
