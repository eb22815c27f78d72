using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StorageCloud.Common.Configuration;
using StorageCloud.Service.Hosting;
using StorageCloud.Service.Http;
using StorageCloud.Storage.Daemons;
using StorageCloud.Storage.Node;

namespace StorageCloud.Storage;

/// <summary>The storage roles' names.</summary>
public static class StorageRoleNames
{
    /// <summary>The object server.</summary>
    public const string Object = "object";

    /// <summary>The container server.</summary>
    public const string Container = "container";

    /// <summary>The account server.</summary>
    public const string Account = "account";
}

/// <summary>
/// A storage-node role: its server on its own port, behind the transaction id it trusts from the proxy, the
/// healthcheck, recon and the daemon passes. The roles of one node share its devices and daemons
/// (<see cref="StorageNodeParts"/>); backend requests of this process for its own roles run in memory.
/// </summary>
public sealed class StorageRoleService(string name, string summary, Int32Option port, Func<StorageNodeParts, RequestDelegate> server, string pathShape)
    : StorageCloudService
{
    /// <summary>Server:ObjectPort.</summary>
    public static readonly Int32Option ObjectPort = new("Server", "ObjectPort", 6200, 1, 65535,
        "port of the object server (the `object` role): Swift's object-server API over the node's devices") { CommandLine = "--object-port" };

    /// <summary>Server:ContainerPort.</summary>
    public static readonly Int32Option ContainerPort = new("Server", "ContainerPort", 6201, 1, 65535,
        "port of the container server (the `container` role): container databases and listings") { CommandLine = "--container-port" };

    /// <summary>Server:AccountPort.</summary>
    public static readonly Int32Option AccountPort = new("Server", "AccountPort", 6202, 1, 65535,
        "port of the account server (the `account` role): account databases and container listings") { CommandLine = "--account-port" };

    /// <summary>The object server (port 6200): Swift's object-server API over the node's devices.</summary>
    public static StorageRoleService Object() => new(StorageRoleNames.Object, "object server: Swift's object-server API over this node's devices", ObjectPort,
        parts => parts.HandleObjectPortAsync, "/<device>/<partition>/<account>/<container>/<object>  (block chunks under /.chunk/)");

    /// <summary>The container server (port 6201): container databases and listings.</summary>
    public static StorageRoleService Container() => new(StorageRoleNames.Container, "container server: container databases and object listings", ContainerPort,
        parts => parts.Containers.HandleAsync, "/<device>/<partition>/<account>/<container>");

    /// <summary>The account server (port 6202): account databases and container listings.</summary>
    public static StorageRoleService Account() => new(StorageRoleNames.Account, "account server: account databases and container listings", AccountPort,
        parts => parts.Accounts.HandleAsync, "/<device>/<partition>/<account>");

    /// <inheritdoc />
    public override string Name => name;

    /// <inheritdoc />
    public override string Summary => summary;

    /// <inheritdoc />
    public override Int32Option Port => port;

    /// <inheritdoc />
    public override bool ServesBackend => true;

    /// <inheritdoc />
    public override IEnumerable<OptionSection> OptionSections => StorageOptions.Sections;

    /// <inheritdoc />
    public override void Register(ServiceContext context, IServiceCollection services)
    {
        var settings = StorageOptions.Read(context.Configuration);
        services.TryAddSingleton(_ => new StorageNodeParts(context, settings));
        services.TryAddSingleton(sp => sp.GetRequiredService<StorageNodeParts>().Node);
        services.TryAddSingleton<StorageDaemons>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDaemonSource, StorageDaemons>(sp => sp.GetRequiredService<StorageDaemons>()));
        // A block gateway in this process reaches the object role's devices directly.
        if (name == StorageRoleNames.Object && context.Host.InProcessBackend)
            services.TryAddSingleton<Chunks.ILocalChunkStores>(sp => new LocalChunkStores(sp.GetRequiredService<StorageNodeParts>().Node,
                Common.Net.HostAddress.Reachable(context.Host.BindAddress).ToString(), port.Read(context.Configuration)));
    }

    /// <inheritdoc />
    public override void MapPipeline(ServiceContext context, IApplicationBuilder app)
    {
        var parts = app.ApplicationServices.GetRequiredService<StorageNodeParts>();
        app.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { TrustIncoming = true });
        app.UseMiddleware<HealthcheckMiddleware>(new HealthcheckOptions { DisablePath = context.Host.HealthcheckDisablePath });
        app.Use(async (ctx, next) =>
        {
            if (!await parts.Recon.TryHandleAsync(ctx) && !await parts.Passes.TryHandleAsync(ctx)) await next(ctx);
        });
        app.Run(server(parts));
    }

    /// <inheritdoc />
    public override Task StartAsync(ServiceContext context, IServiceProvider services, CancellationToken cancellationToken)
    {
        // The passes exist before the listeners open, so POST /daemon/<name> never misses one.
        services.GetRequiredService<StorageDaemons>().Daemons();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
        [$"{Name,-12} http://{context.LocalHost}:{context.PortOf(Name)}{pathShape}"];
}
