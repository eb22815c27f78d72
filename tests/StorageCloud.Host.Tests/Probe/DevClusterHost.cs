using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Common.Hashing;
using StorageCloud.Host.Operator;
using StorageCloud.ObjectLayer;
using StorageCloud.Ring;

namespace StorageCloud.Host.Tests.Probe;

/// <summary>
/// A development cluster of real `storagecloud` processes for one probe test: 1 proxy and 4 storage nodes (2 devices
/// each) on a loopback prefix of its own, replicators only on request, killed and deleted at the end.
/// </summary>
public sealed class DevClusterHost : IAsyncDisposable
{
    private readonly string _root;

    private DevClusterHost(string root, DevCluster cluster)
    {
        _root = root;
        Cluster = cluster;
        Rings = cluster.LoadRings();
        var (prefix, suffix) = cluster.Secrets;
        Hasher = new PathHasher(prefix, suffix);
        Http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
    }

    public DevCluster Cluster { get; }

    public ClusterRings Rings { get; }

    public PathHasher Hasher { get; }

    public HttpClient Http { get; }

    public string Token { get; private set; } = "";

    public string Account => "AUTH_test";

    public static async Task<DevClusterHost> StartAsync(IReadOnlyDictionary<string, string>? settings = null, string proxyRoles = "proxy")
    {
        var root = Directory.CreateTempSubdirectory("sc-devcluster-").FullName;
        var all = new Dictionary<string, string>
        {
            // Daemons run when the test says so, so every step is deterministic.
            ["Replicator:IntervalSeconds"] = "0", ["Updater:IntervalSeconds"] = "0", ["Auditor:IntervalSeconds"] = "0",
            ["Compaction:IntervalSeconds"] = "0", ["Expirer:IntervalSeconds"] = "0", ["Logging:Level"] = "warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) all[key] = value;
        // A loopback prefix of its own, so clusters of tests that run at once never meet.
        var prefix = $"127.{Random.Shared.Next(100, 250)}.{Random.Shared.Next(0, 256)}";
        var cluster = DevCluster.Init(Path.Combine(root, "cluster"), new DevClusterSpec { IpPrefix = prefix, Settings = all, ProxyRoles = proxyRoles });
        var host = new DevClusterHost(root, cluster);
        try
        {
            foreach (var node in cluster.StorageNodes) await host.StartAsync(node.Name);
            await host.StartAsync("proxy");
            await host.AuthenticateAsync();
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    public Task StartAsync(string node) => Cluster.StartAsync(Cluster.Node(node), DevLauncher.FromDirectory(AppContext.BaseDirectory));

    public Task StopAsync(string node) => Cluster.StopAsync(Cluster.Node(node));

    public Task KillAsync(string node) => Cluster.KillAsync(Cluster.Node(node));

    private async Task AuthenticateAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Cluster.ProxyUrl}/auth/v1.0");
        request.Headers.Add("X-Auth-User", "test:tester");
        request.Headers.Add("X-Auth-Key", "testing");
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        Token = response.Headers.GetValues("X-Auth-Token").Single();
    }

    /// <summary>A request to the proxy as test:tester.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, $"{Cluster.ProxyUrl}/v1/{Account}{path}") { Content = content };
        request.Headers.Add("X-Auth-Token", Token);
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return await Http.SendAsync(request);
    }

    /// <summary>Asserts a proxy request's status.</summary>
    public async Task ExpectAsync(HttpStatusCode status, HttpMethod method, string path, HttpContent? content = null, params (string Name, string Value)[] headers)
    {
        using var response = await SendAsync(method, path, content, headers);
        Assert.True(response.StatusCode == status, $"{method} {path}: {(int)response.StatusCode}, expected {(int)status}");
    }

    /// <summary>One daemon pass on each named storage node at once (all by default); the JSON each answered.</summary>
    public async Task<Dictionary<string, JsonNode>> PassAsync(string daemon, params string[] nodes)
    {
        var targets = nodes.Length == 0 ? Cluster.StorageNodes.ToList() : nodes.Select(Cluster.Node).ToList();
        var answers = await Task.WhenAll(targets.Select(async node =>
        {
            using var response = await Http.PostAsync($"http://{node.Ip}:{DevCluster.ObjectPort}/daemon/{daemon}", null);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"{daemon} on {node.Name}: {(int)response.StatusCode} {body}");
            return (node.Name, JsonNode.Parse(body)!);
        }));
        return answers.ToDictionary(a => a.Item1, a => a.Item2);
    }

    /// <summary>One object, container and account replication pass on every storage node, in that order; the failures they reported.</summary>
    public async Task<int> ReplicateAsync()
    {
        var failures = 0;
        foreach (var daemon in DevClusterCommand.Replicators)
            foreach (var answer in (await PassAsync(daemon)).Values) failures += answer["failures"]!.GetValue<int>();
        return failures;
    }

    /// <summary>The storage node that serves a ring device.</summary>
    public DevNode NodeOf(Ring.RingDevice device) => Cluster.StorageNodes.Single(n => n.Ip == device.Ip);

    /// <summary>A direct request to a storage server's device, as the proxy makes them.</summary>
    public async Task<(HttpStatusCode Status, string Body, string Timestamp, string Meta)> DirectAsync(HttpMethod method, Ring.RingDevice device, uint partition, string path)
    {
        using var request = new HttpRequestMessage(method, $"http://{device.Ip}:{device.Port}/{device.Device}/{partition}/{Account}{path}");
        using var response = await Http.SendAsync(request);
        var body = method == HttpMethod.Head ? "" : await response.Content.ReadAsStringAsync();
        var timestamp = response.Headers.TryGetValues("X-Timestamp", out var t) ? t.Single()
            : response.Headers.TryGetValues("X-Backend-Timestamp", out var bt) ? bt.Single() : "none";
        var meta = response.Headers.TryGetValues("X-Object-Meta-Color", out var m) ? m.Single() : "";
        return (response.StatusCode, body, timestamp, meta);
    }

    /// <summary>Every device of the object ring, primaries or not.</summary>
    public IEnumerable<Ring.RingDevice> AllObjectDevices() => Rings.Object.Data.Devices.Where(d => d is not null)!;

    /// <summary>The devices of the object ring that are not primaries of the partition.</summary>
    public IEnumerable<Ring.RingDevice> NonPrimaries(uint partition)
    {
        var primaries = Rings.Object.GetPrimaryNodes(partition);
        return AllObjectDevices().Where(d => !primaries.Any(p => p.Id == d.Id));
    }

    /// <summary>
    /// Reads an object straight from every primary's object server and asserts they all answer alike (status,
    /// timestamp — a tombstone's too —, body and metadata) and that no other device holds it, not even a tombstone.
    /// Returns the common answer.
    /// </summary>
    public async Task<(HttpStatusCode Status, string Body, string Timestamp, string Meta)> AssertReplicasAgreeAsync(string container, string name)
    {
        var path = $"/{container}/{name}";
        var partition = Rings.Object.GetPartition(Account, container, name);
        var answers = new List<(HttpStatusCode Status, string Body, string Timestamp, string Meta)>();
        foreach (var device in Rings.Object.GetPrimaryNodes(partition)) answers.Add(await DirectAsync(HttpMethod.Get, device, partition, path));
        Assert.True(answers.Distinct().Count() == 1, $"{path}: {string.Join(" | ", answers.Select(a => $"{(int)a.Status} {a.Timestamp} {a.Body.Length}b {a.Meta}"))}");
        foreach (var device in NonPrimaries(partition))
        {
            var (status, _, timestamp, _) = await DirectAsync(HttpMethod.Head, device, partition, path);
            Assert.True(status == HttpStatusCode.NotFound && timestamp == "none", $"{path} is still on {device} ({(int)status}, {timestamp})");
        }
        return answers[0];
    }

    /// <summary>A storage node's device directory.</summary>
    public string DevicePath(DevNode node, string device) => Path.Combine(Cluster.DataDir(node), device);

    /// <summary>The recon report over the cluster's rings.</summary>
    public Task<List<ReconLine>> ReconAsync(params string[] checks) =>
        ReconCommand.RunAsync(Cluster.RingDir, checks.Length == 0 ? ReconCommand.Checks : checks, TimeSpan.FromSeconds(5));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Cluster.Nodes) await Cluster.KillAsync(node);
        Http.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
