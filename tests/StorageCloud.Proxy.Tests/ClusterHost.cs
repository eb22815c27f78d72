using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StorageCloud.Service.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Tests;

namespace StorageCloud.Proxy.Tests;

/// <summary>
/// A small real cluster on 127.0.0.1: N storage nodes (one device each, each its own Kestrel server with object,
/// container and account ports), rings over them with 3 replicas in N zones, and a Swift proxy in front. Nodes can be
/// stopped and started again on the same ports, as a probe test kills servers.
/// </summary>
public sealed class ClusterHost : IAsyncDisposable
{
    private readonly TestCluster _cluster;
    private readonly WebApplication _proxy;

    private ClusterHost(TestCluster cluster, WebApplication proxy, int proxyPort)
    {
        _cluster = cluster;
        _proxy = proxy;
        Cluster = cluster.Cluster;
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
    public IReadOnlyList<StorageNodeHost> Nodes => _cluster.Nodes;

    /// <summary>Starts the nodes, builds the rings and starts the proxy.</summary>
    public static async Task<ClusterHost> StartAsync(int nodeCount = 4, ProxyOptions? options = null, ObjectLayerOptions? layerOptions = null,
        Action<IServiceCollection>? configure = null, bool keystoneAuth = false)
    {
        var storage = await TestCluster.StartAsync(nodeCount, layerOptions);
        var cluster = storage.Cluster;

        ListenOptions? listen = null;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        // SC_TEST_LOG=1 shows the proxy's log while debugging a test.
        if (Environment.GetEnvironmentVariable("SC_TEST_LOG") == "1") builder.Logging.AddSimpleConsole();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            StorageCloud.Service.Http.KestrelDefaults.Apply(k);
            k.Listen(IPAddress.Loopback, 0, o => listen = o);
        });
        builder.Services.AddRoutingCore();
        var proxyOptions = options ?? new ProxyOptions();
        var info = new SwiftInfo();
        SwiftProxy.RegisterInfo(info, proxyOptions);
        builder.Services.AddSingleton(info);
        builder.Services.AddSingleton(new HealthcheckOptions());
        configure?.Invoke(builder.Services);
        builder.Services.AddSingleton(cluster);
        builder.Services.AddSwiftProxy(proxyOptions, keystoneAuth);
        var app = builder.Build();
        app.UseSwiftProxy(new TransactionIdOptions());
        await app.StartAsync();
        return new ClusterHost(storage, app, listen!.IPEndPoint!.Port);
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
    public Task ReportContainersAsync() => _cluster.ReportContainersAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _proxy.StopAsync();
        await _proxy.DisposeAsync();
        await _cluster.DisposeAsync();
    }
}
