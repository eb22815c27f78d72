using System.Security.Cryptography;
using System.Text;
using StorageCloud.Common.Hashing;

namespace StorageCloud.Common.Tests.Hashing;

public class StreamingMd5Tests
{
    [Fact]
    public void Known_digests()
    {
        Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", StreamingMd5.HexOf([]));
        Assert.Equal("900150983cd24fb0d6963f7d28e17f72", StreamingMd5.HexOf(Encoding.ASCII.GetBytes("abc")));
    }

    [Fact]
    public void Streaming_equals_one_shot_and_resets()
    {
        var data = new byte[1_000_003];
        new Random(5).NextBytes(data);
        using var md5 = new StreamingMd5();
        for (var offset = 0; offset < data.Length; offset += 65_536)
            md5.Append(data.AsSpan(offset, Math.Min(65_536, data.Length - offset)));
        Assert.Equal(data.Length, md5.BytesHashed);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), md5.GetHexAndReset());
        Assert.Equal(0, md5.BytesHashed);
        md5.Append(Encoding.ASCII.GetBytes("abc"));
        Assert.Equal("900150983cd24fb0d6963f7d28e17f72", md5.GetHexAndReset());
    }

    [Fact]
    public async Task Hashes_a_file_stream()
    {
        var path = Path.GetTempFileName();
        try
        {
            var data = new byte[300_000];
            new Random(9).NextBytes(data);
            await File.WriteAllBytesAsync(path, data);
            await using var stream = File.OpenRead(path);
            Assert.Equal(Convert.ToHexStringLower(MD5.HashData(data)), await StreamingMd5.HashStreamAsync(stream));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public class ShortMd5Tests
{
    [Fact]
    public void Equals_the_platform_md5_for_every_length_around_the_block_edges()
    {
        var random = new Random(11);
        Span<byte> ours = stackalloc byte[16];
        Span<byte> platform = stackalloc byte[16];
        for (var length = 0; length <= 700; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            ShortMd5.HashData(data, ours);
            System.Security.Cryptography.MD5.HashData(data, platform);
            Assert.True(ours.SequenceEqual(platform), $"length {length}");
        }
    }

    [Fact]
    public void Rfc1321_vectors()
    {
        Span<byte> digest = stackalloc byte[16];
        foreach (var (input, expected) in new[]
        {
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
        })
        {
            ShortMd5.HashData(System.Text.Encoding.ASCII.GetBytes(input), digest);
            Assert.Equal(expected, Convert.ToHexStringLower(digest));
        }
    }
}
