using StorageCloud.Common.Hashing;
using StorageCloud.ObjectLayer;
using StorageCloud.Ring;
using StorageCloud.Ring.Builder;

namespace StorageCloud.Tests;

/// <summary>
/// A small real cluster on 127.0.0.1: N storage nodes (one device each, each its own Kestrel server with object,
/// container and account ports), rings over them with 3 replicas in N zones, and the cluster client over the rings.
/// Nodes can be stopped and started again on the same ports, as a probe test kills servers.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly StorageNodeHost[] _nodes;

    private TestCluster(string root, StorageNodeHost[] nodes, Cluster cluster)
    {
        _root = root;
        _nodes = nodes;
        Cluster = cluster;
    }

    /// <summary>The cluster client.</summary>
    public Cluster Cluster { get; }

    /// <summary>The storage nodes, by index.</summary>
    public IReadOnlyList<StorageNodeHost> Nodes => _nodes;

    /// <summary>Starts the nodes and builds the rings.</summary>
    public static async Task<TestCluster> StartAsync(int nodeCount = 4, ObjectLayerOptions? layerOptions = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "sc-cluster-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var hasher = new PathHasher("pre", "suf");
        var nodes = new StorageNodeHost[nodeCount];
        for (var i = 0; i < nodeCount; i++) nodes[i] = await StorageNodeHost.StartAsync(Path.Combine(root, $"d{i + 1}"), hasher);

        Ring.Ring Build(Func<StorageNodeHost, int> port)
        {
            var builder = new RingBuilder(8, 3, 1);
            for (var i = 0; i < nodeCount; i++)
                builder.AddDevice(new RingDevice { Id = 0, Zone = i + 1, Ip = "127.0.0.1", Port = port(nodes[i]), Device = $"d{i + 1}", Weight = 100 });
            builder.Rebalance(seed: 7);
            return new Ring.Ring(builder.ToRingData(), hasher);
        }
        var accountRing = Build(n => n.AccountPort);
        var containerRing = Build(n => n.ContainerPort);
        var objectRing = Build(n => n.ObjectPort);
        var cluster = new Cluster(new ClusterRings(() => accountRing, () => containerRing, () => objectRing),
            layerOptions ?? new ObjectLayerOptions { NodeTimeout = TimeSpan.FromSeconds(5) });
        return new TestCluster(root, nodes, cluster);
    }

    /// <summary>One container updater pass on every node: containers report their totals to their accounts, as the daemon does.</summary>
    public async Task ReportContainersAsync()
    {
        foreach (var node in _nodes)
        {
            if (!node.Running || node.Containers is null) continue;
            foreach (var store in node.Containers.Stores.Values) await node.Reporter!.RunPassAsync(store, CancellationToken.None);
        }
    }

    /// <summary>Stops every node and removes their data.</summary>
    public async ValueTask DisposeAsync()
    {
        Cluster.Dispose();
        foreach (var n in _nodes) await n.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
