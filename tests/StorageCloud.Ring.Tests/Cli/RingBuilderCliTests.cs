using System.Security.Cryptography;
using StorageCloud.Common.Hashing;

namespace StorageCloud.Ring.Tests.Cli;

/// <summary>storagecloud-ring-builder run as an operator runs it, verb by verb, on real files.</summary>
public sealed class RingBuilderCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    private (int Exit, string Stdout, string Stderr) Rb(params string[] args) => Tools.RingBuilder(_dir.Path, ["object.builder", .. args]);

    private string MustRb(params string[] args)
    {
        var (exit, stdout, stderr) = Rb(args);
        Assert.True(exit == 0, $"{string.Join(' ', args)} exited {exit}: {stdout} {stderr}");
        return stdout;
    }

    private string BuilderHash() => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(_dir.File("object.builder"))));

    private void CreateFourZones()
    {
        MustRb("create", "10", "3", "1");
        MustRb("add", "r1z1-127.0.0.1:6200/d1", "100", "r1z2-127.0.0.2:6200/d2", "100");
        MustRb("add", "--region", "1", "--zone", "3", "--ip", "127.0.0.3", "--port", "6200", "--device", "d3", "--weight", "100", "--meta", "rack3");
        MustRb("add", "r1z4-127.0.0.4:6200R127.0.1.4:6300/d4_fast", "100");
    }

    [Fact]
    public void Create_add_rebalance_write_and_reload()
    {
        CreateFourZones();
        var rebalance = MustRb("rebalance", "--seed", "1");
        Assert.Contains("Reassigned 1024 (100.00%) partitions", rebalance);
        Assert.True(File.Exists(_dir.File("object.ring.gz")));

        var summary = MustRb();
        Assert.Contains("1024 partitions, 3.000000 replicas, 1 regions, 4 zones, 4 devices", summary);
        Assert.Contains("Ring file object.ring.gz is up-to-date", summary);
        Assert.Contains("127.0.1.4:6300", summary);

        var ring = RingFile.Read(_dir.File("object.ring.gz"));
        Assert.Equal(10, ring.PartPower);
        Assert.Equal(4, ring.Devices.Count);
        Assert.Equal("rack3", ring.Devices[2]!.Meta);
        Assert.Equal(6300, ring.Devices[3]!.EffectiveReplicationPort);
        var lookups = new Ring(ring, new PathHasher("", "x"));
        Assert.Equal(3, lookups.GetPrimaryNodes(lookups.GetPartition("AUTH_test", "c", "o")).Count);

        Assert.Contains("Ring is valid.", MustRb("validate"));
        Assert.Contains("Dispersion is 0.00", MustRb("dispersion", "--verbose"));
        Assert.Contains("127.0.0.3:6200", MustRb("search", "z3"));
        var parts = MustRb("list_parts", "d0");
        var onDevice0 = Enumerable.Range(0, 1024).Count(p => ring.Replica2Part2Dev.Any(row => row[p] == 0));
        Assert.InRange(onDevice0, 760, 776);
        Assert.Equal(onDevice0 + 1, parts.Trim().Split('\n').Length);

        // write_ring rewrites the same ring.
        var before = File.ReadAllBytes(_dir.File("object.ring.gz"));
        Assert.Contains("Wrote", MustRb("write_ring"));
        Assert.Equal(ring.Replica2Part2Dev[0], RingFile.Read(_dir.File("object.ring.gz")).Replica2Part2Dev[0]);
        Assert.NotEmpty(before);
    }

    [Fact]
    public void Weight_info_removal_and_replica_changes()
    {
        CreateFourZones();
        MustRb("rebalance", "--seed", "1");
        MustRb("add", "r1z5-127.0.0.5:6200/d5", "100");
        Assert.Contains("obsolete", MustRb());
        // Inside min_part_hours only what must move moves; pretend the hours passed to spread onto d5.
        MustRb("pretend_min_part_hours_passed");
        Assert.Contains("Reassigned", MustRb("rebalance", "--seed", "2"));
        Assert.Contains("weight set", MustRb("set_weight", "d4", "50"));
        Assert.Contains("info set", MustRb("set_info", "d4", "127.0.0.55:6201/d5b_slow"));
        Assert.Contains("127.0.0.55:6201", MustRb("search", "/d5b"));
        Assert.Contains("marked for removal", MustRb("remove", "d0"));
        MustRb("rebalance", "--seed", "3");
        var ring = RingFile.Read(_dir.File("object.ring.gz"));
        Assert.Null(ring.Devices[0]);
        Assert.DoesNotContain(ring.Replica2Part2Dev.SelectMany(r => r), id => id == 0);

        MustRb("set_min_part_hours", "0");
        MustRb("set_replicas", "2.5");
        MustRb("rebalance", "--seed", "4");
        Assert.Equal(2.5, RingFile.Read(_dir.File("object.ring.gz")).ReplicaCount, 3);
    }

    [Theory]
    [InlineData("remove", "d99")]
    [InlineData("set_weight", "d0", "-5")]
    [InlineData("set_weight", "d0", "heavy")]
    [InlineData("add", "r1z1-127.0.0.1:6200/d1", "100")]
    [InlineData("add", "r1z9-127.0.0.9/d9", "100")]
    [InlineData("add", "r1z9-127.0.0.9:6200/d9", "-1")]
    [InlineData("add", "--zone", "9", "--ip", "127.0.0.9", "--port", "6200", "--device", "d9")]
    [InlineData("set_info", "d1", "127.0.0.1:6200/d1")]
    [InlineData("set_replicas", "0.5")]
    [InlineData("set_min_part_hours", "-1")]
    [InlineData("list_parts", "z77")]
    [InlineData("teleport")]
    public void Bad_input_is_one_line_exit_1_and_leaves_the_builder_alone(params string[] args)
    {
        CreateFourZones();
        MustRb("rebalance", "--seed", "1");
        var before = BuilderHash();
        var (exit, _, stderr) = Rb(args);
        Assert.Equal(1, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Equal(before, BuilderHash());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("33")]
    [InlineData("ten")]
    public void Create_refuses_a_part_power_outside_1_to_32(string power)
    {
        var (exit, _, stderr) = Rb("create", power, "3", "1");
        Assert.Equal(1, exit);
        Assert.Contains("part", stderr);
        Assert.False(File.Exists(_dir.File("object.builder")));
    }

    [Fact]
    public void Missing_builder_file_is_an_error()
    {
        var (exit, _, stderr) = Rb("add", "r1z1-127.0.0.1:6200/d1", "100");
        Assert.Equal(1, exit);
        Assert.Contains("does not exist", stderr);
    }

    public void Dispose() => _dir.Dispose();
}
