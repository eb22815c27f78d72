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

namespace StorageCloud.Tests;

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
        // Below the ephemeral range: a node stopped and restarted on its ports finds them free again.
        (ObjectPort, ContainerPort, AccountPort) = (TestPorts.Free(), TestPorts.Free(), TestPorts.Free());
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
            StorageCloud.Service.Http.KestrelDefaults.Apply(k);
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
        var chunks = new StorageCloud.Storage.ChunkServer.ChunkServer(_node);
        app.Run(ctx => StorageCloud.Storage.ChunkServer.ChunkServer.Handles(ctx) ? chunks.HandleAsync(ctx) : objects.HandleAsync(ctx));
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
