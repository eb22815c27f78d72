namespace StorageCloud.Ring.Builder;

/// <summary>
/// How many replicas of each partition every tier (region, zone, server, device) should hold. Dispersion comes
/// first: at each tier level with at least as many units as replicas, a unit holds at most one replica of a
/// partition, and at a level with fewer, at most an even share; so a node's capacity is the tightest of those
/// limits over its descendants. Within that, a node's share of the replicas is split among its children by
/// weight ("water-filling" under the capacities). The shares give each device its wanted partition count.
/// </summary>
internal sealed class ReplicaPlan
{
    /// <summary>Tier levels, broadest first.</summary>
    public const int Levels = 4;

    private readonly Dictionary<int, int[]> _path = new();
    private readonly Dictionary<int, double> _deviceShare = new();
    private readonly List<int> _maxPerPartition = [];
    private readonly List<double> _nodeShare = [];

    /// <summary>Builds the plan for the devices that can take partitions (weight above zero).</summary>
    public ReplicaPlan(IReadOnlyList<RingDevice> devices, double replicas)
    {
        var root = new Node(-1, replicas);
        var byKey = new Dictionary<string, Node>();
        var units = new int[Levels];
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
                    units[level]++;
                }
                node.Weight += d.Weight;
                parent = node;
            }
            parent.DeviceId = d.Id;
        }
        // Replicas one unit of each level may hold: one where the level has enough units, else an even share.
        var perUnit = units.Select(u => (int)Math.Ceiling(replicas / u - 1e-9)).ToArray();
        Capacity(root, perUnit);
        Fill(root);
        Assign(root, []);
    }

    // A node's capacity: at every level at or below it, (units inside it) x (replicas one unit may hold).
    private static int[] Capacity(Node node, int[] perUnit)
    {
        var inside = new int[Levels];
        if (node.Level >= 0) inside[node.Level] = 1;
        foreach (var child in node.Children)
        {
            var below = Capacity(child, perUnit);
            for (var level = child.Level; level < Levels; level++) inside[level] += below[level];
        }
        if (node.Level >= 0)
        {
            node.Capacity = int.MaxValue;
            for (var level = node.Level; level < Levels; level++)
                node.Capacity = Math.Min(node.Capacity, inside[level] * perUnit[level]);
        }
        return inside;
    }

    /// <summary>The tier node ids (one per level) of a planned device.</summary>
    public ReadOnlySpan<int> PathOf(int deviceId) => _path[deviceId];

    /// <summary>Whether the device takes part in the plan.</summary>
    public bool Contains(int deviceId) => _path.ContainsKey(deviceId);

    /// <summary>The most replicas of one partition that tier node may hold.</summary>
    public int MaxPerPartition(int node) => _maxPerPartition[node];

    /// <summary>How many tier nodes the plan has (node ids run from 0).</summary>
    public int NodeCount => _nodeShare.Count;

    /// <summary>A tier node's share of each partition's replicas.</summary>
    public double NodeShare(int node) => _nodeShare[node];

    /// <summary>The device's share of each partition's replicas (1.0 = one replica of every partition).</summary>
    public double DeviceShare(int deviceId) => _deviceShare[deviceId];

    private void Assign(Node node, List<int> path)
    {
        foreach (var child in node.Children)
        {
            var id = _maxPerPartition.Count;
            _maxPerPartition.Add(Math.Max(1, (int)Math.Ceiling(child.Share - 1e-9)));
            _nodeShare.Add(child.Share);
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

    private static void Fill(Node node)
    {
        var children = node.Children;
        if (children.Count == 0) return;
        var caps = children.Select(c => (double)Math.Min(c.Capacity, node.Share)).ToArray();
        var free = Enumerable.Range(0, children.Count).ToList();
        var remaining = node.Share;
        while (free.Count > 0 && remaining > 1e-12)
        {
            var weight = free.Sum(i => children[i].Weight);
            // Cap every child whose weighted part would exceed its capacity, then share out the rest again.
            var over = free.Where(i => Part(i) > caps[i] - children[i].Share + 1e-12).ToList();
            if (over.Count == 0)
            {
                foreach (var i in free) children[i].Share += Part(i);
                break;
            }
            foreach (var i in over)
            {
                remaining -= caps[i] - children[i].Share;
                children[i].Share = caps[i];
                free.Remove(i);
            }

            double Part(int i) => weight > 0 ? remaining * children[i].Weight / weight : remaining / free.Count;
        }
        foreach (var child in children) Fill(child);
    }

    private sealed class Node(int level, double share)
    {
        public int Level { get; } = level;
        public double Share { get; set; } = share;
        public double Weight { get; set; }
        public int Capacity { get; set; }
        public int? DeviceId { get; set; }
        public List<Node> Children { get; } = [];
    }
}
