using System.Net;
using System.Security.Cryptography;
using StorageCloud.Common.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Ring;

namespace StorageCloud.Proxy.Tests.ObjectLayer;

/// <summary>Probe-style tests: storage nodes are stopped and started under a live proxy; nothing acknowledged is lost.</summary>
public sealed class FaultTests
{
    private static async Task<int> ReplicasHolding(ClusterHost host, string account, string container, string obj)
    {
        var ring = host.Cluster.Rings.Object;
        var partition = ring.GetPartition(account, container, obj);
        var count = 0;
        foreach (var node in ring.Data.Devices)
        {
            if (node is null) continue;
            using var r = await host.Cluster.Nodes.SendAsync(node, partition, HttpMethod.Head, BackendPath.For(account, container, obj), []);
            if (r.Status == 200) count++;
        }
        return count;
    }

    private static int NodeIndex(RingDevice device) => int.Parse(device.Device[1..]) - 1;

    [Fact]
    public async Task With_a_primary_down_writes_go_to_a_handoff_and_reads_keep_working()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/faults", token)) { }
        var ring = host.Cluster.Rings.Object;
        var primaries = ring.GetPrimaryNodes(ring.GetPartition("AUTH_test", "faults", "obj"));
        var down = host.Nodes[NodeIndex(primaries[0])];
        await down.StopAsync();

        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        using (var put = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/faults/obj", token, new ByteArrayContent(data)))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        // Three replicas still: the two live primaries and the handoff that stood in for the stopped one.
        Assert.Equal(3, await ReplicasHolding(host, "AUTH_test", "faults", "obj"));
        for (var i = 0; i < 10; i++)
        {
            using var get = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/faults/obj", token);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
        }

        // The node comes back without the object (replication is a separate daemon): reads still find it.
        await down.StartAsync();
        host.Cluster.Limiter.Reset();
        for (var i = 0; i < 10; i++)
        {
            using var get = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/faults/obj", token);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(data, await get.Content.ReadAsByteArrayAsync());
        }
        using var listing = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/faults", token);
        Assert.Contains("obj", (await listing.Content.ReadAsStringAsync()).Split('\n'));
    }

    [Fact]
    public async Task X_newest_reads_the_newest_replica_when_a_node_returned_with_an_old_copy()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/newest", token)) { }
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/newest/o", token, new StringContent("old"))) { }
        var ring = host.Cluster.Rings.Object;
        var stale = host.Nodes[NodeIndex(ring.GetPrimaryNodes(ring.GetPartition("AUTH_test", "newest", "o"))[0])];
        await stale.StopAsync();
        using (var put = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/newest/o", token, new StringContent("new")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        await stale.StartAsync();
        host.Cluster.Limiter.Reset();
        // The returned node still holds "old"; with X-Newest every primary is asked and the newest wins.
        for (var i = 0; i < 12; i++)
        {
            using var get = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/newest/o", token, null, ("X-Newest", "true"));
            Assert.Equal("new", await get.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_node_that_keeps_failing_is_error_limited_and_quorum_decides_writes()
    {
        await using var host = await ClusterHost.StartAsync(layerOptions: new ObjectLayerOptions { ErrorSuppressionLimit = 2, NodeTimeout = TimeSpan.FromSeconds(5) });
        var (token, _) = await host.AuthAsync();
        var log = new LinesLogger();
        host.Cluster.Nodes.Logger = log;
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/limits", token)) { }
        await host.Nodes[0].StopAsync();
        var device = host.Cluster.Rings.Object.Data.Devices.First(d => d is not null && d.Device == "d1")!;
        for (var i = 0; i < 12; i++)
        {
            using var put = await host.SendAsync(HttpMethod.Put, $"/v1/AUTH_test/limits/o{i}", token, new StringContent("x"));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }
        Assert.True(host.Cluster.Limiter.IsLimited(device));
        // Each failure is a warning naming the node, the device and the request, as Swift's proxy logs it, and never the token.
        var failures = log.Lines.Where(l => l.StartsWith($"Warning ERROR with server {device.Server}/d1 re: PUT ", StringComparison.Ordinal)).ToList();
        Assert.InRange(failures.Count, 1, 12);
        Assert.All(failures, l => Assert.Matches(@" re: PUT \d+/AUTH_test/limits/o\d+: ", l));
        Assert.DoesNotContain(log.Lines, l => l.Contains(token, StringComparison.Ordinal));

        // Two of four nodes down: every partition still finds two live devices, a quorum of three replicas.
        await host.Nodes[1].StopAsync();
        using (var put = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/limits/two-down", token, new StringContent("x")))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        // Three down: no quorum, so the write is refused rather than acknowledged on one copy.
        await host.Nodes[2].StopAsync();
        using (var put = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/limits/three-down", token, new StringContent("x")))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, put.StatusCode);
    }

    [Fact]
    public async Task A_get_that_loses_its_node_mid_stream_resumes_from_another_replica()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/resume", token)) { }
        var data = RandomNumberGenerator.GetBytes(48 * 1024 * 1024);
        using (var put = await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/resume/big", token, new ByteArrayContent(data)))
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);

        using var response = await host.Cluster.ObjectReadAsync(HttpMethod.Get, "AUTH_test", "resume", "big", []);
        Assert.Equal(200, response.Status);
        var serving = host.Nodes[NodeIndex(response.Node!)];
        await using var body = await response.ReadBodyAsync();
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (received.Length < 1024 * 1024)
        {
            var n = await body.ReadAsync(buffer);
            Assert.True(n > 0);
            received.Write(buffer, 0, n);
        }
        await serving.StopAsync();
        await body.CopyToAsync(received);
        Assert.Equal(data.Length, received.Length);
        Assert.True(data.AsSpan().SequenceEqual(received.ToArray()));
        Assert.Equal(1, ((ResumingReadStream)body).Resumes);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_upload_leaves_no_object()
    {
        await using var host = await ClusterHost.StartAsync();
        var (token, _) = await host.AuthAsync();
        using (await host.SendAsync(HttpMethod.Put, "/v1/AUTH_test/cut", token)) { }
        var head = $"PUT /v1/AUTH_test/cut/partial HTTP/1.1\nHost: x\nX-Auth-Token: {token}\nContent-Length: 1000000";
        var answer = await RawHttp.SendAsync(host.BaseUrl, head, new byte[300_000], closeAfterSend: true);
        Assert.NotEqual(201, answer.Status);
        await Task.Delay(200);
        using var get = await host.SendAsync(HttpMethod.Get, "/v1/AUTH_test/cut/partial", token);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(0, await ReplicasHolding(host, "AUTH_test", "cut", "partial"));
    }
}

/// <summary>Keeps every line logged, as "Level message".</summary>
internal sealed class LinesLogger : Microsoft.Extensions.Logging.ILogger
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter) => _lines.Enqueue($"{logLevel} {formatter(state, exception)}");
}
