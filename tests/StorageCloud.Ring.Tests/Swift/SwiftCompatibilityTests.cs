using System.Text.Json;
using StorageCloud.Common.Hashing;
using StorageCloud.Ring.Builder;

namespace StorageCloud.Ring.Tests.Swift;

/// <summary>
/// Placement checked against OpenStack Swift itself (Debian's swift and python3-swift, which deploy/test.sh
/// installs): rings built by swift-ring-builder load here, rings written here load in Swift's Ring class, and
/// both agree on the partition, primaries and handoffs of 1,000 random paths.
/// </summary>
public sealed class SwiftCompatibilityTests : IDisposable
{
    private const string Prefix = "startcap";
    private const string Suffix = "endcap";
    private readonly TempDir _dir = new();
    private readonly PathHasher _hasher = new(Prefix, Suffix);

    private static List<string?[]> RandomPaths(int count, int seed)
    {
        var random = new Random(seed);
        var paths = new List<string?[]>();
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_./é日";
        string Name() => new string(Enumerable.Range(0, random.Next(1, 20)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
        for (var i = 0; i < count; i++)
        {
            paths.Add((i % 10) switch
            {
                0 => ["AUTH_" + Name(), null, null],
                1 => ["AUTH_" + Name(), Name(), null],
                _ => ["AUTH_" + Name(), Name(), Name()],
            });
        }
        return paths;
    }

    private List<SwiftAnswer> AskSwift(string ringPath, List<string?[]> paths)
    {
        var pathsFile = _dir.File("paths.json");
        File.WriteAllText(pathsFile, JsonSerializer.Serialize(paths));
        var script = Path.Combine(AppContext.BaseDirectory, "Swift", "swift_ring.py");
        var output = Tools.MustRun(Tools.DebianPython, script, ringPath, Prefix, Suffix, pathsFile);
        return JsonSerializer.Deserialize<List<SwiftAnswer>>(output, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
    }

    private void AssertSamePlacement(string ringPath, bool compareHandoffs)
    {
        var ring = new Ring(RingFile.Read(ringPath), _hasher);
        var paths = RandomPaths(1000, 11);
        var swift = AskSwift(ringPath, paths);
        Assert.Equal(paths.Count, swift.Count);
        for (var i = 0; i < paths.Count; i++)
        {
            var (a, c, o) = (paths[i][0]!, paths[i][1], paths[i][2]);
            var part = ring.GetPartition(a, c, o);
            Assert.Equal(swift[i].Part, part);
            Assert.Equal(swift[i].Primaries, ring.GetPrimaryNodes(part).Select(d => d.Id).ToArray());
            if (compareHandoffs) Assert.Equal(swift[i].Handoffs, ring.GetMoreNodes(part).Select(d => d.Id).ToArray());
        }
    }

    private string SwiftBuiltRing(string replicas, params string[] devices)
    {
        var builder = _dir.File("object.builder");
        Tools.MustRun("swift-ring-builder", builder, "create", "10", replicas, "1");
        for (var i = 0; i < devices.Length; i += 2) Tools.MustRun("swift-ring-builder", builder, "add", devices[i], devices[i + 1]);
        // swift-ring-builder exits 1 for "balance is not perfect" warnings; the ring file is written either way.
        var (exit, stdout, stderr) = Tools.Run("swift-ring-builder", [builder, "rebalance"]);
        Assert.True(exit is 0 or 1, $"swift-ring-builder rebalance exited {exit}: {stdout} {stderr}");
        return _dir.File("object.ring.gz");
    }

    [Fact]
    public void Ring_built_by_swift_places_paths_as_swift_does()
    {
        var ring = SwiftBuiltRing("3",
            "r1z1-10.0.1.1:6200/sda", "100", "r1z1-10.0.1.2:6200/sdb", "100", "r1z2-10.0.2.1:6200/sda", "200",
            "r1z2-10.0.2.2:6200/sdb", "50", "r1z3-10.0.3.1:6200/sda", "100", "r1z4-10.0.4.1:6200/sda", "150");
        var data = RingFile.Read(ring);
        Assert.Equal(10, data.PartPower);
        Assert.Equal(3.0, data.ReplicaCount);
        Assert.Equal(6, data.Devices.Count(d => d is not null));
        AssertSamePlacement(ring, compareHandoffs: true);
    }

    [Fact]
    public void Multi_region_fractional_replica_ring_from_swift()
    {
        var ring = SwiftBuiltRing("2.5",
            "r1z1-10.1.1.1:6200/sda", "100", "r1z2-10.1.2.1:6200/sda", "100", "r2z1-10.2.1.1:6200/sda", "100",
            "r2z2-10.2.2.1:6200/sda", "100", "r3z1-10.3.1.1:6200/sda", "100");
        var data = RingFile.Read(ring);
        Assert.Equal(2.5, data.ReplicaCount, 3);
        AssertSamePlacement(ring, compareHandoffs: true);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(17)] // above 2^16 partitions the handoff walk strides over the table
    public void Ring_written_here_loads_in_swift_with_the_same_nodes(int partPower)
    {
        var builder = new RingBuilder(partPower, 3, 1);
        var random = new Random(5);
        for (var i = 0; i < 8; i++)
        {
            builder.AddDevice(new RingDevice
            {
                Id = -1, Region = 1 + i % 2, Zone = 1 + i % 4, Ip = $"10.9.{i}.1", Port = 6200, Device = "sda",
                Weight = 50 + random.Next(100), ReplicationIp = i == 3 ? "10.99.0.3" : null,
            });
        }
        builder.Rebalance(seed: 1);
        var path = _dir.File("ours.ring.gz");
        RingFile.Write(builder.ToRingData(), path);
        AssertSamePlacement(path, compareHandoffs: true);
        var loaded = RingFile.Read(path);
        Assert.Equal("10.99.0.3", loaded.Devices[3]!.EffectiveReplicationIp);
    }

    [Fact]
    public void Ring_with_removed_device_holes_loads_in_swift()
    {
        var builder = new RingBuilder(8, 3, 0);
        for (var i = 0; i < 5; i++)
            builder.AddDevice(new RingDevice { Id = -1, Zone = i, Ip = $"10.8.{i}.1", Port = 6200, Device = "sda", Weight = 100 });
        builder.Rebalance(seed: 3);
        builder.RemoveDevice(1);
        builder.Rebalance(seed: 4);
        var path = _dir.File("holes.ring.gz");
        RingFile.Write(builder.ToRingData(), path);
        Assert.Null(RingFile.Read(path).Devices[1]);
        AssertSamePlacement(path, compareHandoffs: true);
    }

    public void Dispose() => _dir.Dispose();

    private sealed record SwiftAnswer(uint Part, int[] Primaries, int[] Handoffs);
}
