namespace StorageCloud.Ring.Builder;

/// <summary>
/// How many replicas of each partition every tier (region, zone, server, device) should hold, from the
/// weights: each tier's share of the replica count is split among its children by weight ("water-filling"),
/// capped so that no child holds more than its even share of a partition's replicas. A child's cap makes the
/// replicas spread as widely as the tiers allow; the shares give each device its wanted partition count.
/// </summary>
internal sealed class ReplicaPlan
{
    /// <summary>Tier levels, broadest first.</summary>
    public const int Levels = 4;

    private readonly Dictionary<int, int[]> _path = new();
    private readonly Dictionary<int, double> _deviceShare = new();
    private readonly List<int> _maxPerPartition = [];

    /// <summary>Builds the plan for the devices that can take partitions (weight above zero).</summary>
    public ReplicaPlan(IReadOnlyList<RingDevice> devices, double replicas)
    {
        var root = new Node(-1, replicas);
        var byKey = new Dictionary<string, Node>();
        var deviceCap = (int)Math.Ceiling(replicas / devices.Count - 1e-9);
        foreach (var d in devices)
        {
            var keys = new[] { $"r{d.Region}", $"r{d.Region}z{d.Zone}", $"r{d.Region}z{d.Zone}-{d.Server}", $"d{d.Id}" };
            var parent = root;
            for (var level = 0; level < Levels; level++)
            {
                if (!byKey.TryGetValue(keys[level], out var node))
                {
                    node = new Node(level, 0);
                    byKey[keys[level]] = node;
                    parent.Children.Add(node);
                }
                node.Weight += d.Weight;
                node.Devices++;
                parent = node;
            }
            parent.DeviceId = d.Id;
        }
        Fill(root, deviceCap);
        Assign(root, []);
    }

    /// <summary>The tier node ids (one per level) of a planned device.</summary>
    public ReadOnlySpan<int> PathOf(int deviceId) => _path[deviceId];

    /// <summary>Whether the device takes part in the plan.</summary>
    public bool Contains(int deviceId) => _path.ContainsKey(deviceId);

    /// <summary>The most replicas of one partition that tier node may hold.</summary>
    public int MaxPerPartition(int node) => _maxPerPartition[node];

    /// <summary>The device's share of each partition's replicas (1.0 = one replica of every partition).</summary>
    public double DeviceShare(int deviceId) => _deviceShare[deviceId];

    private void Assign(Node node, List<int> path)
    {
        foreach (var child in node.Children)
        {
            var id = _maxPerPartition.Count;
            _maxPerPartition.Add(Math.Max(1, (int)Math.Ceiling(child.Share - 1e-9)));
            path.Add(id);
            if (child.DeviceId is { } device)
            {
                _path[device] = [.. path];
                _deviceShare[device] = child.Share;
            }
            else
            {
                Assign(child, path);
            }
            path.RemoveAt(path.Count - 1);
        }
    }

    private static void Fill(Node node, int deviceCap)
    {
        var children = node.Children;
        if (children.Count == 0) return;
        var even = (int)Math.Ceiling(node.Share / children.Count - 1e-9);
        var caps = children.Select(c => (double)Math.Min(even, c.Devices * deviceCap)).ToArray();
        if (caps.Sum() < node.Share - 1e-9)
            caps = children.Select(c => (double)c.Devices * deviceCap).ToArray();
        var free = Enumerable.Range(0, children.Count).ToList();
        var remaining = node.Share;
        while (free.Count > 0 && remaining > 1e-12)
        {
            var weight = free.Sum(i => children[i].Weight);
            var capped = false;
            foreach (var i in free.ToList())
            {
                var proposed = weight > 0 ? remaining * children[i].Weight / weight : remaining / free.Count;
                if (children[i].Share + proposed > caps[i] + 1e-12)
                {
                    remaining -= caps[i] - children[i].Share;
                    children[i].Share = caps[i];
                    free.Remove(i);
                    capped = true;
                }
            }
            if (capped) continue;
            foreach (var i in free)
                children[i].Share += weight > 0 ? remaining * children[i].Weight / weight : remaining / free.Count;
            remaining = 0;
        }
        foreach (var child in children) Fill(child, deviceCap);
    }

    private sealed class Node(int level, double share)
    {
        public int Level { get; } = level;
        public double Share { get; set; } = share;
        public double Weight { get; set; }
        public int Devices { get; set; }
        public int? DeviceId { get; set; }
        public List<Node> Children { get; } = [];
    }
}
