using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Common.Configuration;
using StorageCloud.Compute.Clients;
using StorageCloud.Compute.Drivers;
using StorageCloud.Compute.Nova;
using StorageCloud.Compute.Records;
using StorageCloud.Service.Hosting;
using StorageCloud.Service.Http;
using StorageCloud.Service.Sql;

namespace StorageCloud.Compute;

/// <summary>
/// The compute role: a thin Nova v2.1 API on port 8774 that keeps servers, flavors and key pairs in SQL and asks the
/// network, volume and image services for ports, volume attachments and images with the caller's token. Its driver
/// (Compute:Driver) is Nova's fake one by default (servers change state at once and run nothing) or qemu, which runs
/// each server as a QEMU guest on its disks' NBD exports.
/// </summary>
public sealed class ComputeService : StorageCloudService
{
    /// <summary>Server:ComputePort.</summary>
    public static readonly Int32Option PortOption = new("Server", "ComputePort", 8774, 1, 65535,
        "port of the compute service (the `compute` role): the Nova v2.1 API") { CommandLine = "--compute-port" };

    /// <inheritdoc />
    public override string Name => "compute";

    /// <inheritdoc />
    public override string Summary => "compute: a thin Nova v2.1 API (flavors, key pairs, servers with ports and volumes; fake or qemu driver)";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    public override IEnumerable<OptionSection> OptionSections => [ComputeConfig.Section, AuthConfig.Section];

    /// <inheritdoc />
    public override void Register(ServiceContext context, IServiceCollection services)
    {
        var read = ComputeConfig.Read(context.Configuration, context.Host.DataDir);
        var settings = read with
        {
            ImageUrl = read.ImageUrl ?? (context.Runs("image") ? context.UrlOf("image") : null),
            NetworkUrl = read.NetworkUrl ?? (context.Runs("network") ? context.UrlOf("network") : null),
            VolumeUrl = read.VolumeUrl ?? (context.Runs("volume") ? context.UrlOf("volume") : null),
        };
        services.AddKeystoneAuth(context);
        services.AddSingleton(settings);
        services.AddSingleton(_ => new ComputeStore(new SqlDatabase(settings.Database, settings.ConnectionString, ComputeStore.Component, ComputeStore.Migrations)));
        services.AddSingleton(_ => new CloudClients(settings, new HttpClient { Timeout = TimeSpan.FromMinutes(10) }));
        services.AddSingleton<IGuestDriver>(sp => settings.Driver == "qemu"
            ? new QemuGuestDriver(settings, sp.GetRequiredService<ILogger<QemuGuestDriver>>())
            : new FakeGuestDriver());
        services.AddSingleton(sp => new NovaApi(sp.GetRequiredService<ComputeStore>(), sp.GetRequiredService<CloudClients>(), settings,
            sp.GetRequiredService<IGuestDriver>(), sp.GetRequiredService<ILogger<NovaApi>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDaemonSource, NovaApi>(sp => sp.GetRequiredService<NovaApi>()));
    }

    /// <inheritdoc />
    public override void MapPipeline(ServiceContext context, IApplicationBuilder app)
    {
        app.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { Style = RequestIdStyle.OpenStack, ExtraHeaders = ["X-Compute-Request-Id"] });
        app.UseMiddleware<HealthcheckMiddleware>(new HealthcheckOptions { DisablePath = context.Host.HealthcheckDisablePath });
        app.UseKeystoneAuth(context, anonymous: NovaApi.IsAnonymous);
        var api = app.ApplicationServices.GetRequiredService<NovaApi>();
        app.Run(api.HandleAsync);
    }

    /// <inheritdoc />
    public override IEnumerable<CatalogEntry> CatalogEntries(ServiceContext context) => [new("compute", "nova", context.UrlOf(Name) + "/v2.1")];

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
        [$"{Name,-12} {context.UrlOf(Name)}/v2.1   (Nova v2.1, {services.GetRequiredService<IGuestDriver>() switch { QemuGuestDriver q => "qemu driver on " + q.Accelerator, var d => d.Name + " driver" }}: openstack server create --flavor m1.tiny --image IMG vm1)"];
}
