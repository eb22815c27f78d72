using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Common.Configuration;
using StorageCloud.Image.Glance;
using StorageCloud.Image.Images;
using StorageCloud.ObjectLayer;
using StorageCloud.Service.Hosting;
using StorageCloud.Service.Http;
using StorageCloud.Service.Sql;

namespace StorageCloud.Image;

/// <summary>
/// The image role: a Glance v2 API on port 9292 whose image data lives in the object store (the `.images` account,
/// as static large objects) and whose records live in SQL; every upload passes the format inspector.
/// </summary>
public sealed class ImageService : StorageCloudService
{
    /// <summary>Server:ImagePort.</summary>
    public static readonly Int32Option PortOption = new("Server", "ImagePort", 9292, 1, 65535,
        "port of the image service (the `image` role): the Glance v2 API") { CommandLine = "--image-port" };

    /// <inheritdoc />
    public override string Name => "image";

    /// <inheritdoc />
    public override string Summary => "image: a Glance v2 API with image data in the object store and format checks";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    public override IEnumerable<OptionSection> OptionSections => [ImageConfig.Section, AuthConfig.Section, ObjectLayerConfig.Section];

    /// <inheritdoc />
    public override void Register(ServiceContext context, IServiceCollection services)
    {
        var settings = ImageConfig.Read(context.Configuration, context.Host.DataDir, AuthConfig.AuthUri(context));
        services.AddObjectLayer(context);
        services.AddKeystoneAuth(context);
        services.AddSingleton(settings);
        services.AddSingleton(_ => new ImageStore(new SqlDatabase(settings.Database, settings.ConnectionString, ImageStore.Component, ImageStore.Migrations)));
        services.AddSingleton(sp => new GlanceApi(sp.GetRequiredService<ImageStore>(), sp.GetRequiredService<ObjectStore>(), settings,
            sp.GetRequiredService<ILogger<GlanceApi>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDaemonSource, GlanceApi>(sp => sp.GetRequiredService<GlanceApi>()));
    }

    /// <inheritdoc />
    public override void MapPipeline(ServiceContext context, IApplicationBuilder app)
    {
        app.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { Style = RequestIdStyle.OpenStack });
        app.UseMiddleware<HealthcheckMiddleware>(new HealthcheckOptions { DisablePath = context.Host.HealthcheckDisablePath });
        app.UseKeystoneAuth(context, anonymous: GlanceApi.IsAnonymous);
        var api = app.ApplicationServices.GetRequiredService<GlanceApi>();
        app.Run(api.HandleAsync);
    }

    /// <inheritdoc />
    public override IEnumerable<CatalogEntry> CatalogEntries(ServiceContext context) => [new("image", "glance", context.UrlOf(Name))];

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
        [$"{Name,-12} {context.UrlOf(Name)}   (Glance v2: openstack image create --file disk.qcow2 --disk-format qcow2 img1)"];
}
