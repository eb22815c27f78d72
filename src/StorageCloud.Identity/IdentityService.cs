using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using StorageCloud.Auth.Store;
using StorageCloud.Common.Configuration;
using StorageCloud.Identity.Api;
using StorageCloud.Service.Hosting;
using StorageCloud.Service.Http;

namespace StorageCloud.Identity;

/// <summary>
/// The identity role (port 5000): the Keystone v3 API, its start-up bootstrap (domain, projects, roles, admin user and
/// the catalog of the services this process runs), the admin password kept in the data directory, and the openrc
/// file the OpenStack clients source.
/// </summary>
public sealed class IdentityService : StorageCloudService
{
    /// <summary>Server:IdentityPort.</summary>
    public static readonly Int32Option PortOption = new("Server", "IdentityPort", 5000, 1, 65535,
        "port of the identity service (the `identity` role): Keystone v3 under `/v3`") { CommandLine = "--identity-port" };

    private IdentityOptions? _options;
    private string? _openrc;

    /// <inheritdoc />
    public override string Name => "identity";

    /// <inheritdoc />
    public override string Summary => "identity: a Keystone v3 subset (tokens, projects, users, roles, catalog, EC2 credentials)";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    public override IEnumerable<OptionSection> OptionSections => [StorageCloud.Auth.AuthConfig.Section, IdentityConfig.Section];

    /// <summary>The identity endpoint (OS_AUTH_URL).</summary>
    public static string AuthUrl(ServiceContext context) => context.UrlOf("identity") + "/v3";

    /// <inheritdoc />
    public override void Register(ServiceContext context, IServiceCollection services)
    {
        var options = _options = IdentityConfig.Read(context.Configuration, context.Host.DataDir);
        if (options.PublicHost is { } host) context.PublicHost = host;
        try
        {
            services.AddIdentityService(options);
        }
        catch (ArgumentException e)
        {
            throw new ConfigurationException("Identity", e.Message);
        }
    }

    /// <inheritdoc />
    public override void MapPipeline(ServiceContext context, IApplicationBuilder app)
    {
        var api = app.ApplicationServices.GetRequiredService<IdentityApi>();
        app.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { Style = RequestIdStyle.OpenStack });
        app.UseMiddleware<HealthcheckMiddleware>(new HealthcheckOptions { DisablePath = context.Host.HealthcheckDisablePath, Check = CheckHealthAsync });
        app.Run(api.HandleAsync);
    }

    /// <inheritdoc />
    public override async ValueTask<string?> CheckHealthAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        await services.GetRequiredService<IdentityStore>().Database.PingAsync(cancellationToken) ? null : "identity database unavailable";

    /// <inheritdoc />
    public override async Task StartAsync(ServiceContext context, IServiceProvider services, CancellationToken cancellationToken)
    {
        var options = _options!;
        var catalog = context.Services.SelectMany(s => s.CatalogEntries(context)).ToList();
        try
        {
            var password = AdminPassword(options, context.Host.DataDir);
            await Bootstrap.RunAsync(services.GetRequiredService<IdentityStore>(), options, password, options.Region, catalog);
            _openrc = WriteOpenrc(context, options, password, catalog);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new ServiceStartException($"identity: cannot open its database or keys: {e.Message}", 1, e);
        }
    }

    /// <inheritdoc />
    public override IEnumerable<CatalogEntry> CatalogEntries(ServiceContext context) => [new("identity", "keystone", AuthUrl(context))];

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
    [
        $"{Name,-12} {AuthUrl(context)}   (Keystone v3; admin / {AdminPassword(_options!, context.Host.DataDir)}, project admin, domain Default)",
        $"{"openrc",-12} {_openrc}   (source it, then e.g. openstack token issue)",
    ];

    /// <summary>The admin password: the configured one, or one generated on first start and kept (owner-only) in the data directory.</summary>
    public static string AdminPassword(IdentityOptions options, string dataDir)
    {
        if (options.AdminPassword is { } configured) return configured;
        var path = Path.Combine(dataDir, "identity", "admin-password");
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        WritePrivate(path, password + "\n");
        return password;
    }

    /// <summary>The official service types the openstack CLI may look up whether or not a command uses them.</summary>
    private static readonly string[] OfficialTypes = ["identity", "object-store", "block-storage", "image", "compute", "network"];

    /// <summary>
    /// Writes the openrc and a clouds.yaml beside it that names the services this cloud does not run
    /// (<c>has_image: false</c>...): the openstack CLI builds some clients whether or not a command uses them (volume
    /// create builds the image client), and openstacksdk skips a service so marked instead of failing.
    /// </summary>
    private static string WriteOpenrc(ServiceContext context, IdentityOptions options, string password, IReadOnlyList<CatalogEntry> catalog)
    {
        var openrc = Path.Combine(context.Host.DataDir, "openrc");
        var clouds = Path.Combine(context.Host.DataDir, "clouds.yaml");
        var absent = OfficialTypes.Where(t => !catalog.Any(e => e.Type == t)).Select(t => $"    has_{t.Replace('-', '_')}: false\n");
        WritePrivate(clouds, $"# The services this StorageCloud runs, for the openstack CLI (openrc points at this file).\nclouds:\n  storagecloud:\n    region_name: {options.Region}\n{string.Concat(absent)}");
        WritePrivate(openrc, $"""
            # StorageCloud admin credentials: source this file, then run openstack commands.
            export OS_AUTH_URL={AuthUrl(context)}
            export OS_USERNAME=admin
            export OS_PASSWORD={password}
            export OS_PROJECT_NAME=admin
            export OS_USER_DOMAIN_NAME=Default
            export OS_PROJECT_DOMAIN_NAME=Default
            export OS_IDENTITY_API_VERSION=3
            export OS_REGION_NAME={options.Region}
            export OS_CLIENT_CONFIG_FILE={clouds}
            export OS_CLOUD=storagecloud

            """);
        return openrc;
    }

    private static void WritePrivate(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            file.Write(System.Text.Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
