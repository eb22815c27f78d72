using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StorageCloud.Common.Constraints;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Ring;
using StorageCloud.Ring.Builder;
using StorageCloud.Storage.Container;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Node;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Proxy.Tests;

/// <summary>
/// A small real cluster on 127.0.0.1: N storage nodes (one device each, each its own Kestrel server with object,
/// container and account ports), rings over them with 3 replicas in N zones, and a Swift proxy in front. Nodes can be
/// stopped and started again on the same ports, as a probe test kills servers.
/// </summary>
public sealed class ClusterHost : IAsyncDisposable
{
    private readonly string _root;
    private readonly StorageNodeHost[] _nodes;
    private readonly WebApplication _proxy;

    private ClusterHost(string root, StorageNodeHost[] nodes, WebApplication proxy, Cluster cluster, int proxyPort)
    {
        _root = root;
        _nodes = nodes;
        _proxy = proxy;
        Cluster = cluster;
        BaseUrl = $"http://127.0.0.1:{proxyPort}";
        // Redirects (a POST to a symlink's 307) are the tests' to see, not the client's to follow.
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(BaseUrl) };
    }

    /// <summary>The proxy's URL.</summary>
    public string BaseUrl { get; }

    /// <summary>A client of the proxy.</summary>
    public HttpClient Client { get; }

    /// <summary>The proxy's cluster client (rings, error limiter, caches).</summary>
    public Cluster Cluster { get; }

    /// <summary>The proxy's services.</summary>
    public IServiceProvider Services => _proxy.Services;

    /// <summary>Storage nodes, by index.</summary>
    public IReadOnlyList<StorageNodeHost> Nodes => _nodes;

    /// <summary>Starts the nodes, builds the rings and starts the proxy.</summary>
    public static async Task<ClusterHost> StartAsync(int nodeCount = 4, ProxyOptions? options = null, ObjectLayerOptions? layerOptions = null,
        Action<IServiceCollection>? configure = null, bool keystoneAuth = false)
    {
        var root = Path.Combine(Path.GetTempPath(), "sc-proxy-" + Guid.NewGuid().ToString("N")[..12]);
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

        ListenOptions? listen = null;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        // SC_TEST_LOG=1 shows the proxy's log while debugging a test.
        if (Environment.GetEnvironmentVariable("SC_TEST_LOG") == "1") builder.Logging.AddSimpleConsole();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.AddServerHeader = false;
            k.Listen(IPAddress.Loopback, 0, o => listen = o);
        });
        builder.Services.AddRoutingCore();
        var proxyOptions = options ?? new ProxyOptions();
        var info = new SwiftInfo();
        SwiftProxy.RegisterInfo(info, proxyOptions);
        builder.Services.AddSingleton(info);
        builder.Services.AddSingleton(new HealthcheckOptions());
        configure?.Invoke(builder.Services);
        builder.Services.AddSwiftProxy(proxyOptions, cluster, keystoneAuth);
        var app = builder.Build();
        app.UseSwiftProxy(new TransactionIdOptions());
        await app.StartAsync();
        return new ClusterHost(root, nodes, app, cluster, listen!.IPEndPoint!.Port);
    }

    /// <summary>A token and storage URL for a tempauth user.</summary>
    public async Task<(string Token, string StorageUrl)> AuthAsync(string user = "test:tester", string key = "testing")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/v1.0");
        request.Headers.Add("X-Auth-User", user);
        request.Headers.Add("X-Auth-Key", key);
        using var response = await Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (response.Headers.GetValues("X-Auth-Token").Single(), response.Headers.GetValues("X-Storage-Url").Single());
    }

    /// <summary>Sends a request with an optional token, body and headers.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token = null, HttpContent? content = null, params (string Name, string Value)[] headers)
    {
        // Paths go out exactly as written (no dot-segment removal), as a careful client sends them.
        using var request = new HttpRequestMessage(method, new Uri(BaseUrl + path, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true })) { Content = content };
        if (token is not null) request.Headers.Add("X-Auth-Token", token);
        foreach (var (name, value) in headers)
        {
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                request.Content ??= new ByteArrayContent([]);
                request.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return await Client.SendAsync(request);
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

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _proxy.StopAsync();
        await _proxy.DisposeAsync();
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

/// <summary>One storage node with one device: object, container and account servers, each on its own port.</summary>
public sealed class StorageNodeHost : IAsyncDisposable
{
    private readonly string _device;
    private readonly PathHasher _hasher;
    private WebApplication? _app;
    private StorageNode? _node;
    private HttpClient? _http;

    private StorageNodeHost(string device, PathHasher hasher)
    {
        _device = device;
        _hasher = hasher;
    }

    public int ObjectPort { get; private set; }
    public int ContainerPort { get; private set; }
    public int AccountPort { get; private set; }

    /// <summary>The node's device directory.</summary>
    public string DevicePath => _device;

    /// <summary>The open storage (null while stopped).</summary>
    public StorageNode? Storage => _node;

    /// <summary>The container server (null while stopped).</summary>
    public ContainerServer? Containers { get; private set; }

    /// <summary>The container-to-account reporter (null while stopped).</summary>
    public AccountReporter? Reporter { get; private set; }

    /// <summary>The node's account server (its stores), while running.</summary>
    public Storage.Account.AccountServer? Accounts { get; private set; }

    /// <summary>The object server's clock (expiry is judged by it); tests move it instead of sleeping.</summary>
    public StorageCloud.Tests.ManualClock Clock { get; } = new();

    /// <summary>True while the node serves requests.</summary>
    public bool Running => _app is not null;

    public static async Task<StorageNodeHost> StartAsync(string device, PathHasher hasher)
    {
        Directory.CreateDirectory(device);
        File.WriteAllText(Path.Combine(device, DeviceEngine.MarkerFile), "");
        var host = new StorageNodeHost(device, hasher);
        await host.StartAsync();
        return host;
    }

    /// <summary>Starts serving (again), on the ports it had before when restarted.</summary>
    public async Task StartAsync()
    {
        _node = StorageNode.Open([_device], _hasher);
        _http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        ListenOptions? o = null, c = null, a = null;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        // Stopping is a crash for requests in flight: they are cut after a moment instead of drained.
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromMilliseconds(100));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.Listen(IPAddress.Loopback, ObjectPort, x => o = x);
            k.Listen(IPAddress.Loopback, ContainerPort, x => c = x);
            k.Listen(IPAddress.Loopback, AccountPort, x => a = x);
        });
        var app = builder.Build();
        var updater = new ContainerUpdater(_http, TimeSpan.FromSeconds(1));
        var objects = new ObjectServer(_node, SwiftConstraints.Default, updater, Clock);
        Reporter = new AccountReporter(_http);
        var containers = Containers = new ContainerServer(_node, SwiftConstraints.Default, Reporter);
        var accounts = Accounts = new Storage.Account.AccountServer(_node, SwiftConstraints.Default);
        app.MapWhen(ctx => ctx.Connection.LocalPort == ContainerPort, b => b.Run(containers.HandleAsync));
        app.MapWhen(ctx => ctx.Connection.LocalPort == AccountPort, b => b.Run(accounts.HandleAsync));
        app.Run(objects.HandleAsync);
        await app.StartAsync();
        (ObjectPort, ContainerPort, AccountPort) = (o!.IPEndPoint!.Port, c!.IPEndPoint!.Port, a!.IPEndPoint!.Port);
        _app = app;
    }

    /// <summary>Stops serving (connections are refused) and closes the device, keeping its data.</summary>
    public async Task StopAsync()
    {
        if (_app is null) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _app = null;
        await _node!.DisposeAsync();
        _node = null;
        _http!.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
