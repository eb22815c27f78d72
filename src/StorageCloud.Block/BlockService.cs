using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Block.Api;
using StorageCloud.Block.Backups;
using StorageCloud.Block.Chunks;
using StorageCloud.Block.Cinder;
using StorageCloud.Block.Devices;
using StorageCloud.Block.Nbd;
using StorageCloud.Block.Volumes;
using StorageCloud.Common.Configuration;
using StorageCloud.Common.Net;
using StorageCloud.ObjectLayer;
using StorageCloud.Service.Hosting;
using StorageCloud.Service.Http;
using StorageCloud.Service.Sql;
using StorageCloud.Storage.Chunks;

namespace StorageCloud.Block;

/// <summary>
/// The volume role: volumes as chunks on the storage nodes, written by this gateway under a fenced lease, exported
/// over NBD (port 10809), with the Cinder v3 API and the block admin API on port 8776.
/// </summary>
public sealed class BlockService : StorageCloudService
{
    /// <summary>Server:VolumePort.</summary>
    public static readonly Int32Option PortOption = new("Server", "VolumePort", 8776, 1, 65535,
        "port of the volume service (the `volume` role): the Cinder v3 API under `/v3` and the block admin API under `/block`") { CommandLine = "--volume-port" };

    private BlockSettings? _settings;

    /// <inheritdoc />
    public override string Name => "volume";

    /// <inheritdoc />
    public override string Summary => "volume: block volumes on the storage nodes, exported over NBD";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    public override IEnumerable<OptionSection> OptionSections => [BlockConfig.Section, BackupConfig.Section, AuthConfig.Section, ObjectLayerConfig.Section];

    /// <inheritdoc />
    public override void Register(ServiceContext context, IServiceCollection services)
    {
        var read = BlockConfig.Read(context.Configuration, context.Host.DataDir, context.Host.BindAddress);
        var settings = _settings = read with
        {
            Holder = LoadOrCreateHolder(Path.Combine(context.Host.DataDir, "block", "gateway-id")),
            ImageUrl = read.ImageUrl ?? (context.Runs("image") ? context.UrlOf("image") : null),
            ComputeUrl = read.ComputeUrl ?? (context.Runs("compute") ? context.UrlOf("compute") : null),
        };
        services.AddObjectLayer(context);
        services.AddKeystoneAuth(context);
        services.AddSingleton(settings);
        services.AddSingleton(_ => new VolumeStore(new SqlDatabase(settings.Database, settings.ConnectionString, VolumeStore.Component, VolumeStore.Migrations)));
        services.AddSingleton(sp =>
        {
            var cluster = sp.GetRequiredService<Cluster>();
            var http = new HttpClient(context.LocalRoutes.CreateHandler(new SocketsHttpHandler
            {
                ConnectTimeout = TimeSpan.FromSeconds(2),
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
                MaxConnectionsPerServer = 64,
            }))
            { Timeout = TimeSpan.FromSeconds(15) };
            return new ChunkPlacement(() => cluster.Rings.Object, sp.GetService<ILocalChunkStores>(), http);
        });
        services.AddSingleton<VolumeDevices>();
        services.AddHostedService(sp => sp.GetRequiredService<VolumeDevices>());
        var loopback = System.Net.IPAddress.IsLoopback(settings.Nbd.Address);
        services.AddSingleton<INbdExports>(sp => new NbdExports(sp.GetRequiredService<VolumeStore>(), sp.GetRequiredService<VolumeDevices>(), loopback));
        services.AddHostedService(sp => new NbdServer(settings.Nbd, sp.GetRequiredService<INbdExports>(), sp.GetRequiredService<ILogger<NbdServer>>()));
        services.AddSingleton<VolumeManager>();
        services.AddSingleton(sp => new ImageLayers(sp.GetRequiredService<VolumeManager>(), sp.GetRequiredService<VolumeDevices>(), settings,
            new HttpClient { Timeout = TimeSpan.FromMinutes(30) }, sp.GetRequiredService<ILogger<ImageLayers>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDaemonSource, ImageLayers>(sp => sp.GetRequiredService<ImageLayers>()));
        services.AddSingleton(BackupConfig.Read(context.Configuration));
        services.AddSingleton<BackupManager>();
        services.AddHostedService(sp => sp.GetRequiredService<BackupManager>());
        services.AddSingleton(sp => new CinderApi(sp.GetRequiredService<VolumeManager>(), sp.GetRequiredService<ImageLayers>(), sp.GetRequiredService<BackupManager>(),
            new Instances.ComputeServers(settings.ComputeUrl, new HttpClient { Timeout = TimeSpan.FromSeconds(30) }),
            settings, NbdHost(context, settings),
            sp.GetRequiredService<ILogger<CinderApi>>()));
        services.AddSingleton(sp => new BlockApi(sp.GetRequiredService<VolumeManager>(), sp.GetRequiredService<VolumeDevices>(),
            settings, NbdHost(context, settings), sp.GetRequiredService<ILogger<BlockApi>>()));
    }

    private static string LoadOrCreateHolder(string path)
    {
        if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: 32 } existing) return existing;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var holder = Guid.NewGuid().ToString("N");
        File.WriteAllText(path + ".tmp", holder);
        File.Move(path + ".tmp", path, overwrite: true);
        return holder;
    }

    /// <inheritdoc />
    public override void MapPipeline(ServiceContext context, IApplicationBuilder app)
    {
        app.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { Style = RequestIdStyle.OpenStack });
        app.UseMiddleware<HealthcheckMiddleware>(new HealthcheckOptions { DisablePath = context.Host.HealthcheckDisablePath });
        app.UseKeystoneAuth(context, anonymous: CinderApi.IsAnonymous);
        var admin = app.ApplicationServices.GetRequiredService<BlockApi>();
        var cinder = app.ApplicationServices.GetRequiredService<CinderApi>();
        app.Run(c => c.Request.Path.StartsWithSegments("/block") ? admin.HandleAsync(c) : cinder.HandleAsync(c));
    }

    /// <inheritdoc />
    public override IEnumerable<CatalogEntry> CatalogEntries(ServiceContext context)
    {
        var url = context.UrlOf(Name) + "/v3/%(project_id)s";
        return [new("volumev3", "cinderv3", url), new("block-storage", "cinder", url)];
    }

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
    [
        $"{Name,-12} {context.UrlOf(Name)}/v3   (Cinder v3: openstack volume create --size 1 disk1; admin API /block/volumes)",
        $"{"nbd",-12} nbd://{NbdHost(context, _settings!)}:{_settings!.Nbd.Port}/<volume-id>   (e.g. qemu-img info -f raw nbd://...; nbdinfo, nbd-client)",
    ];

    private static string NbdHost(ServiceContext context, BlockSettings settings) => HostAddress.UriHostFor(settings.Nbd.Address);
}
