using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Common.Configuration;
using StorageCloud.Network.Neutron;
using StorageCloud.Network.Records;
using StorageCloud.Service.Hosting;
using StorageCloud.Service.Http;
using StorageCloud.Service.Sql;

namespace StorageCloud.Network;

/// <summary>
/// The network role: a thin Neutron v2.0 API on port 9696 that keeps records (networks, subnets and their address
/// allocations, ports, routers, floating IPs, security groups, quotas) in SQL. No packets are routed.
/// </summary>
public sealed class NetworkService : StorageCloudService
{
    /// <summary>Server:NetworkPort.</summary>
    public static readonly Int32Option PortOption = new("Server", "NetworkPort", 9696, 1, 65535,
        "port of the network service (the `network` role): the Neutron v2.0 API") { CommandLine = "--network-port" };

    /// <inheritdoc />
    public override string Name => "network";

    /// <inheritdoc />
    public override string Summary => "network: a thin Neutron v2.0 API (records only: networks, subnets, ports, routers, floating IPs, security groups)";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    public override IEnumerable<OptionSection> OptionSections => [NetworkConfig.Section, AuthConfig.Section];

    /// <inheritdoc />
    public override void Register(ServiceContext context, IServiceCollection services)
    {
        var settings = NetworkConfig.Read(context.Configuration, context.Host.DataDir);
        services.AddKeystoneAuth(context);
        services.AddSingleton(settings);
        services.AddSingleton(_ => new NetworkStore(new SqlDatabase(settings.Database, settings.ConnectionString, NetworkStore.Component, NetworkStore.Migrations)));
        services.AddSingleton(sp => new NeutronApi(sp.GetRequiredService<NetworkStore>(), settings, sp.GetRequiredService<ILogger<NeutronApi>>()));
    }

    /// <inheritdoc />
    public override void MapPipeline(ServiceContext context, IApplicationBuilder app)
    {
        app.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { Style = RequestIdStyle.OpenStack });
        app.UseMiddleware<HealthcheckMiddleware>(new HealthcheckOptions { DisablePath = context.Host.HealthcheckDisablePath });
        app.UseKeystoneAuth(context, anonymous: NeutronApi.IsAnonymous);
        var api = app.ApplicationServices.GetRequiredService<NeutronApi>();
        app.Run(api.HandleAsync);
    }

    /// <inheritdoc />
    public override IEnumerable<CatalogEntry> CatalogEntries(ServiceContext context) => [new("network", "neutron", context.UrlOf(Name))];

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
        [$"{Name,-12} {context.UrlOf(Name)}/v2.0   (Neutron v2.0, records only: openstack network create net1)"];
}
