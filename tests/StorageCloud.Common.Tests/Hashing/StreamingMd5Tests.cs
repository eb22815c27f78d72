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
