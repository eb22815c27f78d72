using System.IO.Compression;
using StorageCloud.Common.Hashing;
using StorageCloud.Ring.Builder;

namespace StorageCloud.Ring.Tests;

public sealed class RingFileTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly PathHasher _hasher = new("p", "s");

    private static RingData SmallRing(int zones = 4, int seed = 1)
    {
        var builder = new RingBuilder(8, 3, 0);
        for (var z = 1; z <= zones; z++)
            builder.AddDevice(new RingDevice { Id = -1, Zone = z, Ip = $"10.0.0.{z}", Port = 6200, Device = "d1", Weight = 100 });
        builder.Rebalance(seed);
        return builder.ToRingData();
    }

    [Fact]
    public void Round_trips()
    {
        var ring = SmallRing();
        var path = _dir.File("a.ring.gz");
        var md5 = RingFile.Write(ring, path);
        Assert.Equal(md5, RingFile.FileMd5(path));
        var back = RingFile.Read(path);
        Assert.Equal(ring.PartPower, back.PartPower);
        Assert.Equal(ring.Devices, back.Devices);
        for (var r = 0; r < 3; r++) Assert.Equal(ring.Replica2Part2Dev[r], back.Replica2Part2Dev[r]);
        Assert.Equal(ring.Version, back.Version);
    }

    [Fact]
    public void Damaged_files_are_rejected_with_a_reason()
    {
        var path = _dir.File("bad.ring.gz");
        File.WriteAllText(path, "not gzip at all");
        Assert.Throws<RingFormatException>(() => RingFile.Read(path));

        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
            gz.Write("R2NGxxxxxx"u8);
        Assert.Contains("magic", Assert.Throws<RingFormatException>(() => RingFile.Read(path)).Message);

        // A good file cut short: the gzip stream ends early.
        var good = _dir.File("good.ring.gz");
        RingFile.Write(SmallRing(), good);
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.Throws<RingFormatException>(() => RingFile.Read(path));

        // A replica row of an odd number of bytes cannot be device ids.
        var raw = new MemoryStream();
        using (var gz = new GZipStream(File.OpenRead(good), CompressionMode.Decompress)) gz.CopyTo(raw);
        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
            gz.Write(raw.ToArray().AsSpan(0, (int)raw.Length - 301));
        Assert.Throws<RingFormatException>(() => RingFile.Read(path));
    }

    [Fact]
    public void Reloads_when_the_file_changes_and_keeps_the_old_ring_when_the_new_one_is_bad()
    {
        var path = _dir.File("object.ring.gz");
        RingFile.Write(SmallRing(4, 1), path);
        var errors = new List<Exception>();
        var reloading = new ReloadingRing(path, _hasher, TimeSpan.Zero, (_, e) => errors.Add(e));
        var first = reloading.Current;
        Assert.Equal(4, first.Data.Devices.Count);

        RingFile.Write(SmallRing(5, 2), path);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(5));
        var second = reloading.Current;
        Assert.NotSame(first, second);
        Assert.Equal(5, second.Data.Devices.Count);

        File.WriteAllText(path, "garbage");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(10));
        Assert.Same(second, reloading.Current);
        Assert.Single(errors);
        Assert.IsType<RingFormatException>(errors[0]);
        // The bad file is reported once, not on every lookup.
        Assert.Same(second, reloading.Current);
        Assert.Single(errors);
    }

    [Fact]
    public void Primary_lookups_allocate_nothing()
    {
        var ring = new Ring(SmallRing(), _hasher);
        Span<int> ids = stackalloc int[ring.MaxReplicas];
        var total = 0;
        for (var i = 0; i < 100; i++) total += ring.GetPrimaryDeviceIds(ring.GetPartition("AUTH_test", "photos", "warm-up"), ids);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
            total += ring.GetPrimaryDeviceIds(ring.GetPartition("AUTH_test", "photos", "cat.jpg"), ids);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(3 * 10_100, total);
    }

    [Fact]
    public void Handoffs_never_repeat_and_prefer_new_zones()
    {
        var builder = new RingBuilder(8, 3, 0);
        for (var z = 1; z <= 4; z++)
            for (var d = 1; d <= 2; d++)
                builder.AddDevice(new RingDevice { Id = -1, Zone = z, Ip = $"10.0.0.{z}", Port = 6200, Device = $"d{d}", Weight = 100 });
        builder.Rebalance(1);
        var ring = new Ring(builder.ToRingData(), _hasher);
        for (uint p = 0; p < 256; p++)
        {
            var primaries = ring.GetPrimaryNodes(p);
            var handoffs = ring.GetMoreNodes(p).ToList();
            Assert.Equal(8, primaries.Count + handoffs.Count);
            Assert.Equal(8, primaries.Concat(handoffs).Select(d => d.Id).Distinct().Count());
            // The first handoff is in the one zone that holds no primary.
            var primaryZones = primaries.Select(d => d.Zone).ToHashSet();
            Assert.DoesNotContain(handoffs[0].Zone, primaryZones);
            Assert.Equal(handoffs, ring.GetMoreNodes(p).ToList());
        }
    }

    public void Dispose() => _dir.Dispose();
}
