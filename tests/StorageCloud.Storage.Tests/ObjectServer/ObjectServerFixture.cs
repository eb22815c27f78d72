using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using StorageCloud.Common.Constraints;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Time;
using StorageCloud.Storage.Engine;
using StorageCloud.Storage.Node;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Storage.Tests.ObjectServer;

/// <summary>A real object server on 127.0.0.1 (Kestrel, a free port) over two temporary devices.</summary>
public sealed class ObjectServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDir _dir;

    private ObjectServerHost(WebApplication app, TempDir dir, StorageNode node, ContainerUpdater updater, int port)
    {
        _app = app;
        _dir = dir;
        Node = node;
        Updater = updater;
        BaseUrl = $"http://127.0.0.1:{port}";
        Client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
    }

    public StorageNode Node { get; }

    /// <summary>The object server's clock (expiry is judged by it).</summary>
    public StorageCloud.Tests.ManualClock Clock { get; private init; } = null!;

    public ContainerUpdater Updater { get; }

    public string BaseUrl { get; }

    public HttpClient Client { get; }

    /// <summary>A client of the container server on the same devices.</summary>
    public HttpClient ContainerClient { get; private init; } = null!;

    /// <summary>The container server, for running its updater pass.</summary>
    public Storage.Container.ContainerServer Containers { get; private init; } = null!;

    /// <summary>The container-to-account reporter.</summary>
    public Storage.Container.AccountReporter Reporter { get; private init; } = null!;

    /// <summary>A client of the account server on the same devices.</summary>
    public HttpClient AccountClient { get; private init; } = null!;

    public string DevicePath(string device) => _dir.Sub(device);

    public static async Task<ObjectServerHost> StartAsync(long largeObjectThreshold = 8L * 1024 * 1024, long freeSpaceReserve = 0)
    {
        var dir = new TempDir();
        var devices = new[] { "sda", "sdb", "nomarker" }.Select(d => dir.Sub(d)).ToList();
        foreach (var d in devices) Directory.CreateDirectory(d);
        File.WriteAllText(Path.Combine(devices[0], DeviceEngine.MarkerFile), "");
        File.WriteAllText(Path.Combine(devices[1], DeviceEngine.MarkerFile), "");
        var node = StorageNode.Open(devices, new PathHasher("pre", "suf"),
            new DeviceEngineOptions { Log = new SegmentLogOptions { LargeObjectThreshold = largeObjectThreshold }, FreeSpaceReserveBytes = freeSpaceReserve });
        // Port 0 on every listener: the kernel picks free ports, so parallel tests can never collide.
        ListenOptions? objectListen = null, containerListen = null, accountListen = null;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.Listen(IPAddress.Loopback, 0, o => objectListen = o);
            k.Listen(IPAddress.Loopback, 0, o => containerListen = o);
            k.Listen(IPAddress.Loopback, 0, o => accountListen = o);
        });
        var app = builder.Build();
        var updater = new ContainerUpdater(new HttpClient { Timeout = TimeSpan.FromSeconds(5) }, TimeSpan.FromSeconds(1));
        var clock = new StorageCloud.Tests.ManualClock();
        var server = new Storage.ObjectServer.ObjectServer(node, SwiftConstraints.Default, updater, clock);
        var reporter = new Storage.Container.AccountReporter(new HttpClient { Timeout = TimeSpan.FromSeconds(5) });
        var containers = new Storage.Container.ContainerServer(node, SwiftConstraints.Default, reporter);
        var accounts = new Storage.Account.AccountServer(node, SwiftConstraints.Default);
        int containerPort = -1, accountPort = -1;
        app.MapWhen(c => c.Connection.LocalPort == containerPort, b => b.Run(containers.HandleAsync));
        app.MapWhen(c => c.Connection.LocalPort == accountPort, b => b.Run(accounts.HandleAsync));
        app.Run(server.HandleAsync);
        await app.StartAsync();
        // Kestrel writes the ports it bound back into the listen options.
        var port = objectListen!.IPEndPoint!.Port;
        containerPort = containerListen!.IPEndPoint!.Port;
        accountPort = accountListen!.IPEndPoint!.Port;
        return new ObjectServerHost(app, dir, node, updater, port)
        {
            ContainerClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{containerPort}") },
            AccountClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{accountPort}") },
            Containers = containers,
            Reporter = reporter,
            Clock = clock,
        };
    }

    private static long _clock = SwiftTimestamp.Now().Ticks;

    /// <summary>A fresh timestamp, later than every one handed out before.</summary>
    public static string NextTimestamp() => new SwiftTimestamp(Interlocked.Add(ref _clock, 10)).Normal;

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        ContainerClient.Dispose();
        AccountClient.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await Node.DisposeAsync();
        _dir.Dispose();
    }
}
