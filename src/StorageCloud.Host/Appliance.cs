using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using StorageCloud.Common.Hashing;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.Storage.Daemons;
using StorageCloud.Storage.Node;
using StorageCloud.Storage.ObjectServer;
using StorageCloud.Host.Configuration;
using StorageCloud.Identity;
using StorageCloud.Identity.Api;
using StorageCloud.Identity.Store;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy;
using StorageCloud.Ring;
using StorageCloud.Ring.Builder;
using StorageCloud.Storage.Replication;

namespace StorageCloud.Host;

/// <summary>Builds and runs the web host for the configured roles, with the middleware pipeline in one visible order.</summary>
public static class Appliance
{
    /// <summary>The product version, from the assembly.</summary>
    public static string Version { get; } =
        typeof(Appliance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Runs until SIGINT or SIGTERM; returns the process exit code.</summary>
    public static async Task<int> RunAsync(StorageCloudConfig config, DataDirectory data, string mode)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "storagecloud" });
        ConfigureLogging(builder.Logging, config);
        var objectRole = config.Roles.Contains("object");
        var containerRole = config.Roles.Contains("container");
        var accountRole = config.Roles.Contains("account");
        var identityRole = config.Roles.Contains("identity");
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null;
            if (config.Roles.Contains("proxy")) k.Listen(config.BindAddress, config.ProxyPort);
            if (objectRole) k.Listen(config.BindAddress, config.ObjectPort);
            if (containerRole) k.Listen(config.BindAddress, config.ContainerPort);
            if (accountRole) k.Listen(config.BindAddress, config.AccountPort);
            if (identityRole) k.Listen(config.BindAddress, config.IdentityPort);
        });
        builder.Services.AddRoutingCore();

        var local = new InProcessRoutes();
        var info = new SwiftInfo();
        RegisterCoreInfo(info, config);
        var proxyRole = config.Roles.Contains("proxy");
        Cluster? opened;
        try
        {
            opened = proxyRole ? OpenCluster(config, data, mode, local) : null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or RingBuilderException)
        {
            Console.Error.WriteLine($"storagecloud: the proxy needs account, container and object rings in {config.RingDir}: {e.Message}");
            return 2;
        }
        using var cluster = opened;
        if (identityRole || config.KeystoneAuth)
        {
            try
            {
                builder.Services.AddIdentityService(config.Identity.Service);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"storagecloud: identity: {e.Message}");
                return 2;
            }
        }
        if (cluster is not null)
        {
            builder.Services.AddSwiftProxy(config.Proxy, cluster, config.KeystoneAuth);
            SwiftProxy.RegisterInfo(info, config.Proxy);
        }
        builder.Services.AddSingleton(info);
        builder.Services.AddSingleton(new TransactionIdOptions { Suffix = config.TransIdSuffix });
        builder.Services.AddSingleton(new HealthcheckOptions { DisablePath = config.HealthcheckDisablePath });

        await using var storage = objectRole || containerRole || accountRole
            ? StorageNode.Open(data.Devices, new PathHasher(data.Secrets.HashPathPrefix, data.Secrets.HashPathSuffix),
                new Storage.Engine.DeviceEngineOptions
                {
                    FreeSpaceReserveBytes = config.FreeSpaceReserveBytes,
                    Log = new Storage.Engine.SegmentLogOptions { MaxBatchDelay = TimeSpan.FromTicks(config.GroupCommitDelayMicroseconds * 10L) },
                })
            : null;

        using var backendHttp = new HttpClient(local.CreateHandler(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = TimeSpan.FromSeconds(2) }))
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        var containerUpdater = new ContainerUpdater(backendHttp, TimeSpan.FromSeconds(1));
        var recon = storage is null ? null : new Recon(storage, config.RingDir);
        var reporter = new Storage.Container.AccountReporter(backendHttp);
        var containerServer = storage is not null && containerRole ? new Storage.Container.ContainerServer(storage, config.Constraints, reporter) : null;
        var accountServer = storage is not null && accountRole ? new Storage.Account.AccountServer(storage, config.Constraints) : null;
        var daemons = new DaemonPasses();
        if (storage is not null)
        {
            builder.Services.AddSingleton(storage);
            builder.Services.AddSingleton(daemons);
            var roles = StorageRoles(config, data, storage, recon!, containerServer, reporter, accountServer, backendHttp);
            builder.Services.AddSingleton<IReadOnlyList<DaemonSchedule>>(sp => StorageDaemons.Register(daemons, storage, roles, containerUpdater,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger("storagecloud.daemons")));
            builder.Services.AddHostedService<StorageDaemons>();
        }

        var app = builder.Build();
        // Storage roles, by port: they trust the proxy's transaction id. Backend requests of this process for its
        // own storage roles (the proxy's, container updates, replication between its devices) run in memory.
        local.Services = app.Services;
        var localHost = LocalRingHost(config);
        void Serve(int port, RequestDelegate server)
        {
            var node = ((IApplicationBuilder)app).New();
            node.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { TrustIncoming = true });
            node.UseMiddleware<HealthcheckMiddleware>();
            node.Use(async (ctx, next) =>
            {
                if (!await recon!.TryHandleAsync(ctx) && !await daemons.TryHandleAsync(ctx)) await next(ctx);
            });
            node.Run(server);
            var pipeline = node.Build();
            app.MapWhen(c => c.Connection.LocalPort == port, branch => branch.Run(pipeline));
            if (config.InProcessBackend) local.Add(localHost, port, pipeline);
        }
        if (accountServer is not null) Serve(config.AccountPort, accountServer.HandleAsync);
        if (containerServer is not null) Serve(config.ContainerPort, containerServer.HandleAsync);
        if (storage is not null && objectRole) Serve(config.ObjectPort, new ObjectServer(storage, config.Constraints, containerUpdater).HandleAsync);
        string? openrc = null;
        if (identityRole)
        {
            IdentityApi identityApi;
            try
            {
                identityApi = app.Services.GetRequiredService<IdentityApi>();
                openrc = await IdentityRole.StartAsync(app.Services.GetRequiredService<IdentityStore>(), config, data);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"storagecloud: identity: cannot open its database or keys: {e.Message}");
                return 1;
            }
            app.MapWhen(c => c.Connection.LocalPort == config.IdentityPort, node =>
            {
                node.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { Suffix = config.TransIdSuffix });
                node.Run(identityApi.HandleAsync);
            });
        }
        // The proxy's pipeline (its order is in SwiftProxy.UseSwiftProxy).
        if (cluster is not null) app.UseSwiftProxy(new TransactionIdOptions { Suffix = config.TransIdSuffix });
        else app.Run(context => SwiftResponses.WriteAsync(context, 404));

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("storagecloud");
        if (cluster is not null) cluster.Nodes.Logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("storagecloud.proxy");
        app.Lifetime.ApplicationStarted.Register(() => PrintBanner(config, data, mode, openrc));
        try
        {
            await app.StartAsync();
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"storagecloud: cannot listen on {config.BindAddress} (ports {config.ProxyPort}, {config.ObjectPort}): {e.Message}");
            return 1;
        }
        logger.LogInformation("roles {Roles} running; data in {DataDir}", string.Join(",", config.Roles), data.Root);
        await app.WaitForShutdownAsync();
        logger.LogInformation("stopped");
        return 0;
    }

    /// <summary>
    /// The cluster client over the rings. The all-in-one appliance builds its own rings over its devices (one zone
    /// each, so replicas land on distinct devices); other proxies load the operator's rings from the ring directory.
    /// </summary>
    private static Cluster OpenCluster(StorageCloudConfig config, DataDirectory data, string mode, InProcessRoutes local)
    {
        var hasher = new PathHasher(data.Secrets.HashPathPrefix, data.Secrets.HashPathSuffix);
        if (mode == "all-in-one")
        {
            var ip = config.BindAddress.Equals(IPAddress.Any) ? "127.0.0.1" : config.BindAddress.Equals(IPAddress.IPv6Any) ? "::1" : config.BindAddress.ToString();
            foreach (var (name, port) in (ReadOnlySpan<(string, int)>)[("account", config.AccountPort), ("container", config.ContainerPort), ("object", config.ObjectPort)])
            {
                var devices = new List<RingDevice>();
                for (var i = 0; i < data.Devices.Count; i++)
                    devices.Add(new RingDevice { Id = 0, Zone = i + 1, Ip = ip, Port = port, Device = Path.GetFileName(data.Devices[i]), Weight = 100 });
                RingSetup.Ensure(config.RingDir, name, config.PartPower, config.Replicas, devices);
            }
        }
        return new Cluster(ClusterRings.Load(config.RingDir, hasher, checkInterval: TimeSpan.FromSeconds(config.RingCheckSeconds)), config.ObjectLayer, local);
    }

    /// <summary>
    /// What the storage node's daemons work on. The replicators and the reaper need the rings; the node finds itself
    /// in them by its bind address (127.0.0.1 when it binds every address, as the all-in-one's rings say) and ports.
    /// </summary>
    private static DaemonRoles StorageRoles(StorageCloudConfig config, DataDirectory data, StorageNode storage, Recon recon,
        Storage.Container.ContainerServer? containers, Storage.Container.AccountReporter reporter, Storage.Account.AccountServer? accounts, HttpClient http)
    {
        var objectRole = config.Roles.Contains("object");
        var ringsThere = File.Exists(Path.Combine(config.RingDir, ClusterRings.ObjectFile)) && File.Exists(Path.Combine(config.RingDir, ClusterRings.ContainerFile))
            && File.Exists(Path.Combine(config.RingDir, ClusterRings.AccountFile));
        var rings = ringsThere
            ? ClusterRings.Load(config.RingDir, new PathHasher(data.Secrets.HashPathPrefix, data.Secrets.HashPathSuffix), checkInterval: TimeSpan.FromSeconds(config.RingCheckSeconds))
            : null;
        var ip = config.BindAddress.Equals(IPAddress.Any) ? "127.0.0.1" : config.BindAddress.ToString();
        static Dictionary<string, Storage.Replication.IReplicatedStore> Replicated<T>(IReadOnlyDictionary<string, T> stores) where T : Storage.Replication.IReplicatedStore =>
            stores.ToDictionary(kv => kv.Key, kv => (Storage.Replication.IReplicatedStore)kv.Value);
        return new DaemonRoles(objectRole, recon, config.Auditor, config.Updater, config.Expirer, config.Compaction, config.Reaper, config.Replicator)
        {
            Containers = containers,
            Reporter = reporter,
            Accounts = accounts,
            Reaper = rings is not null && accounts is not null ? new Storage.Account.AccountReaper(http, () => rings.Account, () => rings.Container, () => rings.Object) : null,
            ObjectReplicator = rings is not null && objectRole ? new ObjectReplicator(storage, () => rings.Object, http, ip, config.ObjectPort, config.Replicator) : null,
            ContainerReplicator = rings is not null && containers is not null
                ? new Storage.Replication.DatabaseReplicator(Replicated(containers.Stores), () => rings.Container, http, ip, config.ContainerPort, config.Replicator) : null,
            AccountReplicator = rings is not null && accounts is not null
                ? new Storage.Replication.DatabaseReplicator(Replicated(accounts.Stores), () => rings.Account, http, ip, config.AccountPort, config.Replicator) : null,
        };
    }

    /// <summary>The host this node's own devices have in the rings, as a URI spells it: the bind address, or loopback when it binds every address.</summary>
    private static string LocalRingHost(StorageCloudConfig config) =>
        config.BindAddress.Equals(IPAddress.Any) ? "127.0.0.1"
        : config.BindAddress.Equals(IPAddress.IPv6Any) ? "[::1]"
        : config.BindAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{config.BindAddress}]" : config.BindAddress.ToString();

    private static void RegisterCoreInfo(SwiftInfo info, StorageCloudConfig config)
    {
        var swift = new Dictionary<string, object>(config.Constraints.ToInfo())
        {
            ["version"] = Version,
            ["strict_cors_mode"] = true,
            ["allow_account_management"] = config.Proxy.AllowAccountManagement,
            ["account_autocreate"] = true,
            ["policies"] = new[] { new Dictionary<string, object> { ["name"] = "Policy-0", ["aliases"] = "Policy-0", ["default"] = true } },
        };
        info.Register("swift", swift);
        info.Register("storagecloud", new Dictionary<string, object>
        {
            ["version"] = Version,
            ["roles"] = config.Roles,
            ["replicas"] = config.Replicas,
        });
    }

    private static void ConfigureLogging(ILoggingBuilder logging, StorageCloudConfig config)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(Enum.Parse<LogLevel>(config.LogLevel, ignoreCase: true));
        // Kestrel and hosting chatter stays at warning unless asked for.
        logging.AddFilter("Microsoft", LogLevel.Warning);
        if (config.LogFormat == "json")
        {
            logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.IncludeScopes = true;
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            });
        }
    }

    private static void PrintBanner(StorageCloudConfig config, DataDirectory data, string mode, string? openrc)
    {
        var host = config.BindAddress.Equals(IPAddress.Any) ? "127.0.0.1" : config.BindAddress.ToString();
        var url = $"http://{host}:{config.ProxyPort}";
        Console.Out.WriteLine($"""
            StorageCloud {Version} ({mode}) is running. Stop it with Ctrl-C.
              proxy        {url}   (GET {url}/healthcheck, GET {url}/info)
              object       {(config.Roles.Contains("object") ? $"http://{host}:{config.ObjectPort}/<device>/<partition>/<account>/<container>/<object>" : "(not running)")}
              container    {(config.Roles.Contains("container") ? $"http://{host}:{config.ContainerPort}/<device>/<partition>/<account>/<container>" : "(not running)")}
              account      {(config.Roles.Contains("account") ? $"http://{host}:{config.AccountPort}/<device>/<partition>/<account>" : "(not running)")}
              data         {data.Root} ({data.Devices.Count} devices: {string.Join(" ", data.Devices.Select(Path.GetFileName))})
              roles        {string.Join(", ", config.Roles)}
              replicas     {config.Replicas}
              auth         {url}/auth/v1.0   (tempauth; e.g. swift -A {url}/auth/v1.0 -U test:tester -K testing stat)
              users        {string.Join(", ", config.Proxy.Users.Select(u => $"{u.Account}:{u.User}/{u.Key}"))}
              rings        {config.RingDir}
            {(openrc is null ? "" : $"""
              identity     {IdentityRole.AuthUrl(config)}   (Keystone v3; admin / {IdentityRole.AdminPassword(config, data)}, project admin, domain Default)
              openrc       {openrc}   (source it, then e.g. openstack token issue)
            """)}
            """);
        Console.Out.Flush();
    }
}
