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
public abstract class StorageRoleService : StorageCloudService
{
    /// <inheritdoc />
    public override bool ServesBackend => true;

    /// <inheritdoc />
    public override IEnumerable<OptionSection> OptionSections => StorageOptions.Sections;

    /// <summary>The server that answers this role's requests.</summary>
    protected abstract RequestDelegate Server(StorageNodeParts parts);

    /// <inheritdoc />
    public override void Register(ServiceContext context, IServiceCollection services)
    {
        var settings = StorageOptions.Read(context.Configuration);
        services.TryAddSingleton(_ => new StorageNodeParts(context, settings));
        services.TryAddSingleton(sp => sp.GetRequiredService<StorageNodeParts>().Node);
        services.TryAddSingleton<StorageDaemons>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDaemonSource, StorageDaemons>(sp => sp.GetRequiredService<StorageDaemons>()));
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
        app.Run(Server(parts));
    }

    /// <inheritdoc />
    public override Task StartAsync(ServiceContext context, IServiceProvider services, CancellationToken cancellationToken)
    {
        // The passes exist before the listeners open, so POST /daemon/<name> never misses one.
        services.GetRequiredService<StorageDaemons>().Daemons();
        return Task.CompletedTask;
    }
}

/// <summary>The object server (port 6200): Swift's object-server API over the node's devices.</summary>
public sealed class ObjectService : StorageRoleService
{
    /// <summary>Server:ObjectPort.</summary>
    public static readonly Int32Option PortOption = new("Server", "ObjectPort", 6200, 1, 65535,
        "port of the object server (the `object` role): Swift's object-server API over the node's devices") { CommandLine = "--object-port" };

    /// <inheritdoc />
    public override string Name => StorageRoleNames.Object;

    /// <inheritdoc />
    public override string Summary => "object server: Swift's object-server API over this node's devices";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    protected override RequestDelegate Server(StorageNodeParts parts) => parts.Objects.HandleAsync;

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
        [$"{Name,-12} http://{context.LocalHost}:{context.PortOf(Name)}/<device>/<partition>/<account>/<container>/<object>"];
}

/// <summary>The container server (port 6201): container databases and listings.</summary>
public sealed class ContainerService : StorageRoleService
{
    /// <summary>Server:ContainerPort.</summary>
    public static readonly Int32Option PortOption = new("Server", "ContainerPort", 6201, 1, 65535,
        "port of the container server (the `container` role): container databases and listings") { CommandLine = "--container-port" };

    /// <inheritdoc />
    public override string Name => StorageRoleNames.Container;

    /// <inheritdoc />
    public override string Summary => "container server: container databases and object listings";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    protected override RequestDelegate Server(StorageNodeParts parts) => parts.Containers.HandleAsync;

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
        [$"{Name,-12} http://{context.LocalHost}:{context.PortOf(Name)}/<device>/<partition>/<account>/<container>"];
}

/// <summary>The account server (port 6202): account databases and container listings.</summary>
public sealed class AccountService : StorageRoleService
{
    /// <summary>Server:AccountPort.</summary>
    public static readonly Int32Option PortOption = new("Server", "AccountPort", 6202, 1, 65535,
        "port of the account server (the `account` role): account databases and container listings") { CommandLine = "--account-port" };

    /// <inheritdoc />
    public override string Name => StorageRoleNames.Account;

    /// <inheritdoc />
    public override string Summary => "account server: account databases and container listings";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    protected override RequestDelegate Server(StorageNodeParts parts) => parts.Accounts.HandleAsync;

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
        [$"{Name,-12} http://{context.LocalHost}:{context.PortOf(Name)}/<device>/<partition>/<account>"];
}
