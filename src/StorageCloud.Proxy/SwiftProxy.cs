using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using StorageCloud.Common.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;
using StorageCloud.Proxy.Middleware;
using StorageCloud.Proxy.Middleware.Bulk;
using StorageCloud.Proxy.Middleware.LargeObjects;
using StorageCloud.Proxy.Middleware.Quotas;
using StorageCloud.Proxy.Middleware.Versioning;

namespace StorageCloud.Proxy;

/// <summary>The Swift proxy: its services, and its middleware pipeline in one visible order (as Swift's paste pipeline).</summary>
public static class SwiftProxy
{
    /// <summary>Registers the proxy's services over a cluster client.</summary>
    public static IServiceCollection AddSwiftProxy(this IServiceCollection services, ProxyOptions options, Cluster cluster)
    {
        services.AddSingleton(options);
        services.AddSingleton(cluster);
        services.AddSingleton<TempAuth>();
        services.AddSingleton<ISwiftAuthProvider>(sp => sp.GetRequiredService<TempAuth>());
        services.AddSingleton<SwiftAuthorizer>();
        services.AddSingleton<AccountController>();
        services.AddSingleton<ContainerController>();
        services.AddSingleton<ObjectController>();
        services.AddSingleton<SwiftRouter>();
        services.AddSingleton<SegmentReader>();
        // Read filters in order: a symlink is followed first, then its target may be a large object.
        services.AddSingleton<SymlinkMiddleware>();
        services.AddSingleton<IObjectReadFilter>(sp => sp.GetRequiredService<SymlinkMiddleware>());
        services.AddSingleton<SloMiddleware>();
        services.AddSingleton<IObjectReadFilter>(sp => sp.GetRequiredService<SloMiddleware>());
        services.AddSingleton<DloMiddleware>();
        services.AddSingleton<IObjectReadFilter>(sp => sp.GetRequiredService<DloMiddleware>());
        return services;
    }

    /// <summary>Lists the proxy's features and their settings in /info, as Swift's middleware register them.</summary>
    public static void RegisterInfo(SwiftInfo info, ProxyOptions options)
    {
        info.Register("tempauth", new Dictionary<string, object> { ["account_acls"] = true });
        info.Register("tempurl", new Dictionary<string, object>
        {
            ["methods"] = options.TempUrlMethods,
            ["incoming_remove_headers"] = new[] { "x-timestamp" },
            ["incoming_allow_headers"] = Array.Empty<string>(),
            ["outgoing_remove_headers"] = new[] { "x-object-meta-*" },
            ["outgoing_allow_headers"] = new[] { "x-object-meta-public-*" },
            ["allowed_digests"] = options.TempUrlDigests,
        });
        info.Register("cors", new Dictionary<string, object>
        {
            ["strict_cors_mode"] = options.StrictCorsMode,
            ["cors_allow_origin"] = options.CorsAllowOrigin,
            ["cors_expose_headers"] = options.CorsExposeHeaders,
        });
        info.Register("copy", new Dictionary<string, object>());
        info.Register("slo", new Dictionary<string, object>
        {
            ["max_manifest_segments"] = SloMiddleware.MaxManifestSegments,
            ["max_manifest_size"] = SloMiddleware.MaxManifestSize,
            ["yield_frequency"] = 10,
            ["min_segment_size"] = 1,
        });
        info.Register("bulk_delete", new Dictionary<string, object>
        {
            ["max_deletes_per_request"] = BulkMiddleware.MaxDeletesPerRequest,
            ["max_failed_deletes"] = BulkMiddleware.MaxFailures,
        });
        info.Register("bulk_upload", new Dictionary<string, object>
        {
            ["max_containers_per_extraction"] = BulkMiddleware.MaxContainersPerExtraction,
            ["max_failed_extractions"] = BulkMiddleware.MaxFailures,
        });
        info.Register("staticweb", new Dictionary<string, object>());
        info.Register("formpost", new Dictionary<string, object> { ["allowed_digests"] = options.TempUrlDigests });
        info.Register("object_versioning", new Dictionary<string, object>());
        info.Register("versioned_writes", new Dictionary<string, object> { ["allowed_flags"] = new[] { "x-versions-location", "x-history-location" } });
        info.Register("symlink", new Dictionary<string, object> { ["symloop_max"] = SymlinkMiddleware.SymloopMax, ["static_links"] = true });
        info.Register("container_quotas", new Dictionary<string, object>());
        info.Register("account_quotas", new Dictionary<string, object>());
        info.Register("dlo", new Dictionary<string, object> { ["max_get_time"] = 86400 });
        info.Register("gatekeeper", new Dictionary<string, object>());
    }

    /// <summary>
    /// The pipeline, in order: catch errors → transaction id → access log → healthcheck → /info → gatekeeper →
    /// temp URLs → form POST → auth → CORS → static web → bulk delete and archive extraction → static and dynamic large objects → container and account quotas → object versioning → legacy versioned writes → symlinks (quotas after SLO, so a manifest counts
    /// the size of the object it makes) → the account, container and object controllers.
    /// </summary>
    public static void UseSwiftProxy(this IApplicationBuilder app, TransactionIdOptions transactionIds)
    {
        app.UseMiddleware<CatchErrorsMiddleware>();
        app.UseMiddleware<TransactionIdMiddleware>(transactionIds with { AccessLog = false });
        app.UseMiddleware<ProxyLoggingMiddleware>();
        app.UseMiddleware<HealthcheckMiddleware>();
        app.UseMiddleware<SwiftInfoMiddleware>();
        app.UseMiddleware<GatekeeperMiddleware>();
        app.UseMiddleware<TempUrlMiddleware>();
        app.UseMiddleware<FormPostMiddleware>();
        app.UseMiddleware<SwiftAuthMiddleware>();
        app.UseMiddleware<CorsMiddleware>();
        app.UseMiddleware<StaticWebMiddleware>();
        app.UseMiddleware<BulkMiddleware>();
        app.UseMiddleware<SloMiddleware>();
        app.UseMiddleware<DloMiddleware>();
        app.UseMiddleware<ContainerQuotaMiddleware>();
        app.UseMiddleware<AccountQuotaMiddleware>();
        app.UseMiddleware<ObjectVersioningMiddleware>();
        app.UseMiddleware<LegacyVersioningMiddleware>();
        app.UseMiddleware<SymlinkMiddleware>();
        var router = app.ApplicationServices.GetRequiredService<SwiftRouter>();
        app.Run(router.HandleAsync);
    }
}
