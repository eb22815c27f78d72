using Microsoft.Extensions.Logging;
using StorageCloud.Ring;
using StorageCloud.Service.Hosting;
using StorageCloud.Storage.Account;
using StorageCloud.Storage.Container;
using StorageCloud.Storage.Daemons;
using StorageCloud.Storage.ObjectServer;

namespace StorageCloud.Storage.Node;

/// <summary>
/// What a node's storage roles share, made once whichever of them run: the devices (one engine each), the backend
/// HTTP client (in memory for this process's own servers), the container updater and account reporter, recon, the
/// daemon passes, and each role's server.
/// </summary>
public sealed class StorageNodeParts : IAsyncDisposable
{
    private readonly Lazy<ObjectServer.ObjectServer> _objects;
    private readonly Lazy<ContainerServer> _containers;
    private readonly Lazy<AccountServer> _accounts;
    private readonly Lazy<ChunkServer.ChunkServer> _chunks;

    /// <summary>Opens the devices of the data directory.</summary>
    public StorageNodeParts(ServiceContext context, StorageSettings settings)
    {
        Context = context;
        Settings = settings;
        Node = StorageNode.Open(context.Data.Devices, context.Data.Hasher, settings.Engine);
        Http = new HttpClient(context.LocalRoutes.CreateHandler(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(2),
            RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8, ResponseHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
        }))
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        Updater = new ContainerUpdater(Http, TimeSpan.FromSeconds(1));
        Reporter = new AccountReporter(Http);
        Recon = new Recon(Node, context.Host.RingDir);
        _objects = new(() => new ObjectServer.ObjectServer(Node, settings.Constraints, Updater));
        _containers = new(() => new ContainerServer(Node, settings.Constraints, Reporter));
        _accounts = new(() => new AccountServer(Node, settings.Constraints));
        _chunks = new(() => new ChunkServer.ChunkServer(Node));
    }

    /// <summary>The process's context.</summary>
    public ServiceContext Context { get; }

    /// <summary>The storage roles' settings.</summary>
    public StorageSettings Settings { get; }

    /// <summary>The devices.</summary>
    public StorageNode Node { get; }

    /// <summary>The backend client (container updates, reports, replication).</summary>
    public HttpClient Http { get; }

    /// <summary>Sends object servers' listing updates to container servers.</summary>
    public ContainerUpdater Updater { get; }

    /// <summary>Sends container servers' totals to account servers.</summary>
    public AccountReporter Reporter { get; }

    /// <summary>The node's recon report.</summary>
    public Recon Recon { get; }

    /// <summary>The daemon passes, by name, runnable on request.</summary>
    public DaemonPasses Passes { get; } = new();

    /// <summary>The object server (made on first use).</summary>
    public ObjectServer.ObjectServer Objects => _objects.Value;

    /// <summary>The container server (made on first use).</summary>
    public ContainerServer Containers => _containers.Value;

    /// <summary>The account server (made on first use).</summary>
    public AccountServer Accounts => _accounts.Value;

    /// <summary>The chunk server, in a path space of the object port (made on first use).</summary>
    public ChunkServer.ChunkServer Chunks => _chunks.Value;

    /// <summary>The object port's server: block chunks under /.chunk/, objects otherwise.</summary>
    public Task HandleObjectPortAsync(Microsoft.AspNetCore.Http.HttpContext context) =>
        ChunkServer.ChunkServer.Handles(context) ? Chunks.HandleAsync(context) : Objects.HandleAsync(context);

    /// <summary>The rings, when the ring directory has all three; replicators and the reaper need them.</summary>
    public ClusterRings? LoadRings() => ClusterRings.ExistIn(Context.Host.RingDir)
        ? ClusterRings.Load(Context.Host.RingDir, Context.Data.Hasher, checkInterval: TimeSpan.FromSeconds(Context.Host.RingCheckSeconds))
        : null;

    /// <summary>Closes the devices, finishing queued writes.</summary>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Node.DisposeAsync();
    }
}

