using StorageCloud.Ring.Builder;

namespace StorageCloud.Ring.Tests.Builder;

/// <summary>Properties of the rebalance over random device sets: balance, dispersion, minimal movement, min_part_hours, determinism.</summary>
public class RebalancePropertyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static RingDevice Dev(int region, int zone, int server, int disk, double weight) => new()
    {
        Id = -1, Region = region, Zone = zone, Ip = $"10.{region}.{zone}.{server}", Port = 6200, Device = $"sd{(char)('a' + disk)}", Weight = weight,
    };

    /// <summary>A random cluster: 1-3 regions, 1-8 zones in all, 1-3 servers per zone, 1-3 disks per server.</summary>
    private static RingBuilder RandomCluster(Random random, int partPower, double replicas, bool equalWeights)
    {
        var builder = new RingBuilder(partPower, replicas, 1);
        var regions = random.Next(1, 4);
        var zones = random.Next(regions, 9);
        for (var z = 0; z < zones; z++)
        {
            var region = 1 + z % regions;
            for (var s = 0; s < random.Next(1, 4); s++)
                for (var d = 0; d < random.Next(1, 4); d++)
                    builder.AddDevice(Dev(region, z + 1, s + 1, d, equalWeights ? 100 : random.Next(1, 11) * 50));
        }
        return builder;
    }

    private static List<int> Replicas(RingBuilder b, int p) => b.Table!.Where(row => p < row.Length).Select(row => (int)row[p]).ToList();

    [Fact]
    public void A_rebalance_reports_its_stages_in_order_and_ends_at_one()
    {
        var builder = RandomCluster(new Random(7), 12, 3, equalWeights: false);
        var heard = new List<(string Stage, double Done)>();
        var quiet = RandomCluster(new Random(7), 12, 3, equalWeights: false);
        builder.Rebalance(7, T0, (stage, done) => heard.Add((stage, done)));
        quiet.Rebalance(7, T0);
        Assert.Equal(["unassigning", "assigning"], heard.Take(2).Select(h => h.Stage));
        Assert.Contains(heard, h => h.Stage == "balancing");
        Assert.Equal(("done", 1.0), heard[^1]);
        for (var i = 1; i < heard.Count; i++) Assert.True(heard[i].Done >= heard[i - 1].Done, $"progress went back at {heard[i]}");
        // Listening changes nothing about the placement.
        Assert.Equal(quiet.Table, builder.Table);
    }

    [Fact]
    public void Equal_weights_balance_within_one_percent()
    {
        for (var seed = 0; seed < 30; seed++)
        {
            var random = new Random(seed);
            var builder = RandomCluster(random, 14, 3, equalWeights: true);
            builder.Rebalance(seed, T0);
            Assert.True(builder.GetBalance() <= 1.0, $"seed {seed}: balance {builder.GetBalance():F2} with {builder.LiveDevices.Count()} devices");
            Assert.Empty(RingValidator.Check(builder));
        }
    }

    [Fact]
    public void Replicas_spread_over_the_widest_tiers()
    {
        for (var seed = 0; seed < 40; seed++)
        {
            var random = new Random(100 + seed);
            var builder = RandomCluster(random, 10, 3, equalWeights: seed % 2 == 0);
            builder.Rebalance(seed, T0);
            var devices = builder.LiveDevices.ToDictionary(d => d.Id);
            var zones = devices.Values.Select(d => (d.Region, d.Zone)).Distinct().Count();
            var servers = devices.Values.Select(d => d.Server).Distinct().Count();
            for (var p = 0; p < builder.PartitionCount; p++)
            {
                var replicas = Replicas(builder, p).Select(id => devices[id]).ToList();
                Assert.Equal(Math.Min(3, devices.Count), replicas.Select(d => d.Id).Distinct().Count());
                var distinctZones = replicas.Select(d => (d.Region, d.Zone)).Distinct().Count();
                var distinctServers = replicas.Select(d => d.Server).Distinct().Count();
                Assert.True(distinctZones == Math.Min(3, zones), $"seed {seed} part {p}: replicas in {distinctZones} of {zones} zones");
                Assert.True(distinctServers == Math.Min(3, servers), $"seed {seed} part {p}: replicas on {distinctServers} of {servers} servers");
            }
            Assert.Equal(0, builder.GetDispersion());
        }
    }

    [Fact]
    public void Weights_decide_shares()
    {
        var builder = new RingBuilder(12, 3, 1);
        for (var z = 1; z <= 6; z++) builder.AddDevice(Dev(1, z, 1, 0, z <= 3 ? 100 : 200));
        builder.Rebalance(1, T0);
        var parts = builder.PartsPerDevice();
        var total = builder.PartitionCount * 3.0;
        for (var id = 0; id < 6; id++)
        {
            var expected = total * (id < 3 ? 100 : 200) / 900;
            Assert.InRange(parts[id], expected * 0.99, expected * 1.01);
        }
    }

    [Fact]
    public void Adding_one_device_to_nine_moves_about_a_tenth()
    {
        for (var seed = 0; seed < 4; seed++)
        {
            var builder = new RingBuilder(12, 3, 1);
            for (var z = 1; z <= 9; z++) builder.AddDevice(Dev(1, z, 1, 0, 100));
            builder.Rebalance(seed, T0);
            var before = builder.Table!.Select(r => (ushort[])r.Clone()).ToArray();
            builder.AddDevice(Dev(1, 10, 1, 0, 100));
            builder.Rebalance(seed, T0.AddHours(2));
            var moved = 0;
            for (var r = 0; r < before.Length; r++)
                for (var p = 0; p < before[r].Length; p++)
                    if (before[r][p] != builder.Table![r][p]) moved++;
            var ideal = builder.PartitionCount * 3 / 10.0;
            Assert.True(moved <= ideal * 1.2, $"seed {seed}: moved {moved} replica assignments, ideal {ideal}");
            Assert.True(moved >= ideal * 0.9, $"seed {seed}: moved only {moved}; the new device is underfilled");
            Assert.True(builder.GetBalance() <= 2.0, $"balance {builder.GetBalance():F2}");
        }
    }

    [Fact]
    public void Removing_a_device_moves_only_its_partitions()
    {
        var builder = new RingBuilder(11, 3, 1);
        for (var z = 1; z <= 5; z++)
            for (var d = 0; d < 2; d++) builder.AddDevice(Dev(1, z, 1, d, 100));
        builder.Rebalance(7, T0);
        var before = builder.Table!.Select(r => (ushort[])r.Clone()).ToArray();
        builder.RemoveDevice(4);
        // Inside the min_part_hours window: removal still drains the device, and nothing else moves.
        builder.Rebalance(8, T0.AddMinutes(5));
        for (var r = 0; r < before.Length; r++)
        {
            for (var p = 0; p < before[r].Length; p++)
            {
                if (before[r][p] == 4) Assert.NotEqual(4, builder.Table![r][p]);
                else Assert.Equal(before[r][p], builder.Table![r][p]);
            }
        }
        Assert.Null(builder.Devices.ElementAtOrDefault(4));
        Assert.Empty(RingValidator.Check(builder));
    }

    [Fact]
    public void A_partition_moves_one_replica_per_min_part_hours_window()
    {
        var builder = new RingBuilder(10, 3, 2);
        for (var z = 1; z <= 4; z++) builder.AddDevice(Dev(1, z, 1, 0, 100));
        builder.Rebalance(1, T0);
        var first = builder.Table!.Select(r => (ushort[])r.Clone()).ToArray();
        // Three new devices at once want 3/7 of everything; each partition may still move only one replica.
        for (var z = 5; z <= 7; z++) builder.AddDevice(Dev(1, z, 1, 0, 100));
        builder.Rebalance(2, T0.AddHours(3));
        var second = builder.Table!.Select(r => (ushort[])r.Clone()).ToArray();
        var movedOnce = new HashSet<int>();
        for (var p = 0; p < builder.PartitionCount; p++)
        {
            var changed = Enumerable.Range(0, 3).Count(r => first[r][p] != second[r][p]);
            Assert.True(changed <= 1, $"partition {p} moved {changed} replicas in one rebalance");
            if (changed == 1) movedOnce.Add(p);
        }
        Assert.NotEmpty(movedOnce);
        // An hour later (inside the 2-hour window) the partitions just moved stay where they are.
        builder.SetWeight(0, 300);
        builder.Rebalance(3, T0.AddHours(4));
        foreach (var p in movedOnce)
            for (var r = 0; r < 3; r++) Assert.Equal(second[r][p], builder.Table![r][p]);
        // Once the window has passed they may move again.
        builder.PretendMinPartHoursPassed();
        builder.SetWeight(0, 100);
        var result = builder.Rebalance(4, T0.AddHours(4));
        Assert.True(result.PartitionsMoved > 0);
    }

    [Fact]
    public void Same_seed_same_ring()
    {
        RingBuilder Build()
        {
            var b = RandomCluster(new Random(42), 10, 3, equalWeights: false);
            b.Rebalance(99, T0);
            return b;
        }
        var a = Build();
        var b = Build();
        for (var r = 0; r < 3; r++) Assert.Equal(a.Table![r], b.Table![r]);
        var c = RandomCluster(new Random(42), 10, 3, equalWeights: false);
        c.Rebalance(100, T0);
        Assert.NotEqual(a.Table![0], c.Table![0]);
    }

    [Fact]
    public void Fewer_zones_than_replicas_still_uses_every_zone()
    {
        var builder = new RingBuilder(10, 3, 1);
        for (var d = 0; d < 3; d++)
        {
            builder.AddDevice(Dev(1, 1, 1, d, 100));
            builder.AddDevice(Dev(1, 2, 1, d, 100));
        }
        builder.Rebalance(5, T0);
        var devices = builder.LiveDevices.ToDictionary(d => d.Id);
        for (var p = 0; p < builder.PartitionCount; p++)
        {
            var zones = Replicas(builder, p).Select(id => devices[id].Zone).ToList();
            Assert.Equal(2, zones.Distinct().Count());
            Assert.Equal(3, Replicas(builder, p).Distinct().Count());
        }
        Assert.True(builder.GetBalance() <= 1.0);
    }

    [Fact]
    public void Fractional_replicas_and_replica_changes()
    {
        var builder = new RingBuilder(10, 2.5, 0);
        for (var z = 1; z <= 4; z++) builder.AddDevice(Dev(1, z, 1, 0, 100));
        builder.Rebalance(1, T0);
        Assert.Equal(3, builder.Table!.Length);
        Assert.Equal(512, builder.Table[2].Length);
        Assert.Equal(2.5, builder.ToRingData().ReplicaCount, 6);
        builder.SetReplicas(3);
        builder.Rebalance(2, T0);
        Assert.Equal(1024, builder.Table![2].Length);
        Assert.Empty(RingValidator.Check(builder));
    }

    [Fact]
    public void Builder_file_round_trips()
    {
        using var dir = new TempDir();
        var builder = RandomCluster(new Random(3), 9, 3, equalWeights: false);
        builder.Rebalance(1, T0);
        builder.RemoveDevice(0);
        var path = dir.File("x.builder");
        BuilderFile.Save(builder, path);
        var loaded = BuilderFile.Load(path);
        Assert.Equal(builder.Version, loaded.Version);
        Assert.Equal(builder.PendingRemoval, loaded.PendingRemoval);
        Assert.Equal(builder.LiveDevices, loaded.LiveDevices);
        for (var r = 0; r < 3; r++) Assert.Equal(builder.Table![r], loaded.Table![r]);
        Assert.Equal(builder.LastPartMoves, loaded.LastPartMoves);
    }
}
