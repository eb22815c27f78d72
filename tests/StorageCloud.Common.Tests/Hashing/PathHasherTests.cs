using StorageCloud.Common.Hashing;
using StorageCloud.Common.Tests.Vectors;

namespace StorageCloud.Common.Tests.Hashing;

public class PathHasherTests
{
    [Fact]
    public void Hash_and_partitions_match_swift()
    {
        var root = ReferenceVectors.Load("hash_path.json");
        var hasher = new PathHasher(root.GetProperty("prefix").GetString()!, root.GetProperty("suffix").GetString()!);
        var count = 0;
        foreach (var v in root.GetProperty("vectors").EnumerateArray())
        {
            var account = v.GetProperty("account").GetString()!;
            var container = v.GetProperty("container").GetString();
            var obj = v.GetProperty("object").GetString();
            Assert.Equal(v.GetProperty("hash").GetString(), hasher.HashPathHex(account, container, obj));
            foreach (var p in v.GetProperty("partitions").EnumerateObject())
            {
                var partPower = int.Parse(p.Name);
                Assert.Equal(p.Value.GetUInt32(), hasher.GetPartition(account, container, obj, partPower));
            }
            count++;
        }
        Assert.True(count > 300);
    }

    [Fact]
    public void Object_without_container_is_refused_as_swift_does()
    {
        var hasher = new PathHasher("", "");
        Assert.Throws<ArgumentException>(() => hasher.HashPathHex("a", null, "o"));
    }

    [Fact]
    public void Part_power_zero_is_one_partition()
    {
        Span<byte> digest = stackalloc byte[16];
        digest.Fill(0xff);
        Assert.Equal(0u, PathHasher.PartitionOf(digest, 0));
        Assert.Equal(uint.MaxValue, PathHasher.PartitionOf(digest, 32));
    }
}
