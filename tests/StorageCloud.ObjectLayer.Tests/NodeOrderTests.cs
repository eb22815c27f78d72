using StorageCloud.Common.Hashing;
using StorageCloud.Ring;
using StorageCloud.Ring.Builder;

namespace StorageCloud.ObjectLayer.Tests;

/// <summary>The devices a request walks: primaries, then handoffs, skipping limited devices, within a budget.</summary>
public sealed class NodeOrderTests
{
    private static Ring.Ring SixDevices()
    {
        var builder = new RingBuilder(6, 3, 1);
        for (var i = 0; i < 6; i++)
            builder.AddDevice(new RingDevice { Id = 0, Zone = i + 1, Ip = "127.0.0.1", Port = 6200 + i, Device = $"d{i}", Weight = 100 });
        builder.Rebalance(seed: 3);
        return new Ring.Ring(builder.ToRingData(), new PathHasher("pre", "suf"));
    }

    private static List<RingDevice> Walk(NodeOrder order)
    {
        var list = new List<RingDevice>();
        while (order.Next() is { } node) list.Add(node);
        return list;
    }

    [Fact]
    public void Primaries_come_first_in_ring_order_then_handoffs_within_the_budget()
    {
        var ring = SixDevices();
        var limiter = new ErrorLimiter(new ObjectLayerOptions());
        var walk = Walk(new NodeOrder(ring, 17, limiter, requestNodeFactor: 2, shuffle: false));
        var primaries = ring.GetPrimaryNodes(17);
        Assert.Equal(6, walk.Count);
        Assert.Equal(primaries.Select(d => d.Device), walk.Take(3).Select(d => d.Device));
        Assert.Equal(ring.GetMoreNodes(17).Take(3).Select(d => d.Device), walk.Skip(3).Select(d => d.Device));
    }

    [Fact]
    public void Shuffled_primaries_are_still_exactly_the_primaries_and_limited_devices_are_skipped()
    {
        var ring = SixDevices();
        var limiter = new ErrorLimiter(new ObjectLayerOptions());
        var primaries = ring.GetPrimaryNodes(5);
        limiter.Limit(primaries[1]);
        var order = new NodeOrder(ring, 5, limiter, requestNodeFactor: 2, shuffle: true);
        Assert.Equal(3, order.Replicas);
        var walk = Walk(order);
        Assert.True(order.PrimariesDone);
        Assert.DoesNotContain(walk, d => d.Device == primaries[1].Device);
        Assert.Equal(primaries.Where((_, i) => i != 1).Select(d => d.Device).Order(), walk.Take(2).Select(d => d.Device).Order());
        // The limited primary used up one turn of the budget: 6 turns, 5 devices handed out.
        Assert.Equal(5, walk.Count);
    }
}
