using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Common.Configuration;
using StorageCloud.Common.Constraints;
using StorageCloud.ObjectLayer;
using StorageCloud.Service.Hosting;
using StorageCloud.Service.Http;

namespace StorageCloud.Proxy;

/// <summary>
/// The proxy role (port 8080): the Swift and S3 APIs over the cluster client, with its middleware pipeline, /info
/// and /healthcheck. With the identity role in the process (or Proxy:KeystoneAuth), identity tokens and EC2
/// credentials are accepted beside tempauth's, validated locally by the auth library.
/// </summary>
public sealed class ProxyService : StorageCloudService
{
    /// <summary>Server:ProxyPort.</summary>
    public static readonly Int32Option PortOption = new("Server", "ProxyPort", 8080, 1, 65535,
        "port of the proxy: Swift and S3 APIs, `/info`, `/healthcheck`") { CommandLine = "--port" };

    /// <inheritdoc />
    public override string Name => "proxy";

    /// <inheritdoc />
    public override string Summary => "proxy: the Swift and S3 APIs over the storage nodes";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    public override IEnumerable<OptionSection> OptionSections =>
        [ProxyConfig.Section, ObjectLayerConfig.Section, SwiftConstraintsConfig.Section, AuthConfig.Section];

    /// <inheritdoc />
    public override void Register(ServiceContext context, IServiceCollection services)
    {
        var c = context.Configuration;
        var constraints = SwiftConstraintsConfig.Load(c);
        var options = ProxyConfig.Read(c, constraints);
        var keystone = ProxyConfig.KeystoneAuth.Read(c, context.Runs("identity"));
        services.AddObjectLayer(context);
        if (keystone) services.AddKeystoneAuth(context);
        services.AddSwiftProxy(options, keystone);
        services.TryAddSingleton(new HealthcheckOptions { DisablePath = context.Host.HealthcheckDisablePath });
        var info = new SwiftInfo();
        RegisterCoreInfo(info, context, constraints, options);
        SwiftProxy.RegisterInfo(info, options);
        services.AddSingleton(info);
    }

    /// <inheritdoc />
    public override void MapPipeline(ServiceContext context, IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        services.GetRequiredService<Cluster>().Nodes.Logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("storagecloud.proxy");
        app.UseSwiftProxy(new TransactionIdOptions { Suffix = context.Host.TransIdSuffix });
    }

    /// <inheritdoc />
    public override IEnumerable<CatalogEntry> CatalogEntries(ServiceContext context)
    {
        var url = context.UrlOf(Name);
        return [new("object-store", "swift", url + "/v1/AUTH_%(project_id)s"), new("ec2", "ec2", url), new("s3", "s3", url)];
    }

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services)
    {
        var url = $"http://{context.LocalHost}:{context.PortOf(Name)}";
        var options = services.GetRequiredService<ProxyOptions>();
        return
        [
            $"{Name,-12} {url}   (GET {url}/healthcheck, GET {url}/info)",
            $"{"auth",-12} {url}/auth/v1.0   (tempauth; e.g. swift -A {url}/auth/v1.0 -U test:tester -K testing stat)",
            $"{"users",-12} {string.Join(", ", options.Users.Select(u => $"{u.Account}:{u.User}/{u.Key}"))}",
        ];
    }

    private static void RegisterCoreInfo(SwiftInfo info, ServiceContext context, SwiftConstraints constraints, ProxyOptions options)
    {
        var swift = new Dictionary<string, object>(constraints.ToInfo())
        {
            ["version"] = ProductVersion.Current,
            ["strict_cors_mode"] = true,
            ["allow_account_management"] = options.AllowAccountManagement,
            ["account_autocreate"] = true,
            ["policies"] = new[] { new Dictionary<string, object> { ["name"] = "Policy-0", ["aliases"] = "Policy-0", ["default"] = true } },
        };
        info.Register("swift", swift);
        info.Register("storagecloud", new Dictionary<string, object>
        {
            ["version"] = ProductVersion.Current,
            ["roles"] = context.Host.Roles,
            ["replicas"] = context.Host.Replicas,
        });
    }
}
