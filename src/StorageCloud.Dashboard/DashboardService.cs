using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StorageCloud.Common.Configuration;
using StorageCloud.Dashboard.Web;
using StorageCloud.Service.Hosting;
using StorageCloud.Service.Http;

namespace StorageCloud.Dashboard;

/// <summary>
/// The dashboard role: pages for people on port 8000. A user logs in with the identity service (domain, user,
/// password, project); the session keeps the token on the server (the browser holds a random session id in an
/// HttpOnly, SameSite=Strict cookie); every form carries the session's CSRF token; logout revokes the token. The pages
/// use the other services through the catalog the token came with, with the user's own token, so a page shows what
/// the API would show that user and nothing more.
/// </summary>
public sealed class DashboardService : StorageCloudService
{
    /// <summary>Server:DashboardPort.</summary>
    public static readonly Int32Option PortOption = new("Server", "DashboardPort", 8000, 1, 65535,
        "port of the dashboard (the `dashboard` role): web pages for the object store, volumes and quotas") { CommandLine = "--dashboard-port" };

    /// <inheritdoc />
    public override string Name => "dashboard";

    /// <inheritdoc />
    public override string Summary => "dashboard: web pages (log in with the identity service; overview, containers, volumes, instances, images, networks; cluster pages for admins)";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    public override IEnumerable<OptionSection> OptionSections => [DashboardConfig.Section];

    /// <inheritdoc />
    public override void Register(ServiceContext context, IServiceCollection services)
    {
        var read = DashboardConfig.Read(context.Configuration);
        var settings = read with
        {
            IdentityUrl = read.IdentityUrl ?? (context.Runs("identity") ? context.UrlOf("identity") : null),
            RingDir = context.Host.RingDir, Hasher = context.Data.Hasher,
        };
        services.AddSingleton(settings);
        services.AddSingleton(sp => new DashboardApp(settings, new HttpClient { Timeout = TimeSpan.FromHours(1) }, sp.GetRequiredService<ILogger<DashboardApp>>()));
    }

    /// <inheritdoc />
    public override void MapPipeline(ServiceContext context, IApplicationBuilder app)
    {
        app.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { Style = RequestIdStyle.OpenStack });
        app.UseMiddleware<HealthcheckMiddleware>(new HealthcheckOptions { DisablePath = context.Host.HealthcheckDisablePath });
        var dashboard = app.ApplicationServices.GetRequiredService<DashboardApp>();
        app.Run(dashboard.HandleAsync);
    }

    /// <inheritdoc />
    public override IEnumerable<string> BannerLines(ServiceContext context, IServiceProvider services) =>
        [$"{Name,-12} {context.UrlOf(Name)}/   (web pages: log in as a user of the identity service)"];
}
