using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;
using StorageCloud.Proxy.Middleware;
using StorageCloud.Proxy.S3;
using StorageCloud.Proxy.Middleware.Bulk;
using StorageCloud.Proxy.Middleware.LargeObjects;
using StorageCloud.Proxy.Middleware.Quotas;
using StorageCloud.Proxy.Middleware.Versioning;

namespace StorageCloud.Proxy;

/// <summary>The Swift proxy: its services, and its middleware pipeline in one visible order (as Swift's paste pipeline).</summary>
public static class SwiftProxy
{
    /// <summary>The optional features, by the name /info and the configuration use (Proxy:DisabledFeatures).</summary>
    public static readonly string[] OptionalFeatures =
    [
        "tempurl", "formpost", "cors", "staticweb", "bulk", "slo", "dlo", "container_quotas", "account_quotas",
        "object_versioning", "versioned_writes", "symlink", "domain_remap", "crossdomain",
    ];

    private static bool On(ProxyOptions options, string feature) => !options.DisabledFeatures.Contains(feature);

    /// <summary>
    /// Registers the proxy's services over the cluster client (registered already). With <paramref name="keystoneAuth"/>,
    /// identity tokens are accepted beside tempauth's (token validation must be registered too).
    /// </summary>
    public static IServiceCollection AddSwiftProxy(this IServiceCollection services, ProxyOptions options, bool keystoneAuth = false)
    {
        services.AddSingleton(options);
        services.AddSingleton<TempAuth>();
        services.AddSingleton<ISwiftAuthProvider>(sp => sp.GetRequiredService<TempAuth>());
        services.AddSingleton<IS3CredentialSource, TempAuthS3Credentials>();
        services.AddSingleton<BucketRegistry>();
        if (keystoneAuth)
        {
            services.AddSingleton<ISwiftAuthProvider, KeystoneAuth>();
            services.AddSingleton<IS3CredentialSource, Ec2S3Credentials>();
        }
        services.AddSingleton<SwiftAuthorizer>();
        services.AddSingleton<AccountController>();
        services.AddSingleton<ContainerController>();
        services.AddSingleton<ObjectController>();
        services.AddSingleton<SwiftRouter>();
        services.AddSingleton<SegmentReader>();
        // Read filters in order: a symlink is followed first, then its target may be a large object.
        services.AddSingleton<SymlinkMiddleware>();
        services.AddSingleton<SloMiddleware>();
        services.AddSingleton<DloMiddleware>();
        if (On(options, "symlink")) services.AddSingleton<IObjectReadFilter>(sp => sp.GetRequiredService<SymlinkMiddleware>());
        if (On(options, "slo")) services.AddSingleton<IObjectReadFilter>(sp => sp.GetRequiredService<SloMiddleware>());
        if (On(options, "dlo")) services.AddSingleton<IObjectReadFilter>(sp => sp.GetRequiredService<DloMiddleware>());
        return services;
    }

    /// <summary>Lists the proxy's enabled features and their settings in /info, as Swift's middleware register them.</summary>
    public static void RegisterInfo(SwiftInfo info, ProxyOptions options)
    {
        void Register(string feature, string section, Dictionary<string, object> settings)
        {
            if (On(options, feature)) info.Register(section, settings);
        }
        info.Register("tempauth", new Dictionary<string, object> { ["account_acls"] = true });
        Register("tempurl", "tempurl", new Dictionary<string, object>
        {
            ["methods"] = options.TempUrlMethods,
            ["incoming_remove_headers"] = new[] { "x-timestamp" },
            ["incoming_allow_headers"] = Array.Empty<string>(),
            ["outgoing_remove_headers"] = new[] { "x-object-meta-*" },
            ["outgoing_allow_headers"] = new[] { "x-object-meta-public-*" },
            ["allowed_digests"] = options.TempUrlDigests,
        });
        Register("cors", "cors", new Dictionary<string, object>
        {
            ["strict_cors_mode"] = options.StrictCorsMode,
            ["cors_allow_origin"] = options.CorsAllowOrigin,
            ["cors_expose_headers"] = options.CorsExposeHeaders,
        });
        info.Register("copy", new Dictionary<string, object>());
        Register("slo", "slo", new Dictionary<string, object>
        {
            ["max_manifest_segments"] = SloMiddleware.MaxManifestSegments,
            ["max_manifest_size"] = SloMiddleware.MaxManifestSize,
            ["yield_frequency"] = 10,
            ["min_segment_size"] = 1,
        });
        Register("bulk", "bulk_delete", new Dictionary<string, object>
        {
            ["max_deletes_per_request"] = BulkMiddleware.MaxDeletesPerRequest,
            ["max_failed_deletes"] = BulkMiddleware.MaxFailures,
        });
        Register("bulk", "bulk_upload", new Dictionary<string, object>
        {
            ["max_containers_per_extraction"] = BulkMiddleware.MaxContainersPerExtraction,
            ["max_failed_extractions"] = BulkMiddleware.MaxFailures,
        });
        Register("staticweb", "staticweb", new Dictionary<string, object>());
        Register("formpost", "formpost", new Dictionary<string, object> { ["allowed_digests"] = options.TempUrlDigests });
        Register("object_versioning", "object_versioning", new Dictionary<string, object>());
        Register("versioned_writes", "versioned_writes", new Dictionary<string, object> { ["allowed_flags"] = new[] { "x-versions-location", "x-history-location" } });
        Register("symlink", "symlink", new Dictionary<string, object> { ["symloop_max"] = SymlinkMiddleware.SymloopMax, ["static_links"] = true });
        Register("container_quotas", "container_quotas", new Dictionary<string, object>());
        Register("account_quotas", "account_quotas", new Dictionary<string, object>());
        Register("dlo", "dlo", new Dictionary<string, object> { ["max_get_time"] = 86400 });
        info.Register("gatekeeper", new Dictionary<string, object>());
        Register("domain_remap", "domain_remap", DomainRemapMiddleware.Info);
        Register("crossdomain", "crossdomain", new Dictionary<string, object>());
    }

    /// <summary>
    /// The pipeline, in order: catch errors → transaction id → access log → healthcheck → /info → gatekeeper →
    /// crossdomain → domain remap → temp URLs → form POST → S3 (signed S3 requests become Swift sub-requests of the rest) → auth → path checks → copy (COPY becomes a PUT with X-Copy-From) → CORS → static web → bulk → static and dynamic large objects → container and
    /// account quotas (after SLO, so a manifest counts the size of the object it makes) → object versioning →
    /// legacy versioned writes → symlinks → the account, container and object controllers. Optional features that
    /// are switched off (Proxy:DisabledFeatures) are left out.
    /// </summary>
    public static void UseSwiftProxy(this IApplicationBuilder app, TransactionIdOptions transactionIds)
    {
        var options = app.ApplicationServices.GetRequiredService<ProxyOptions>();
        void Use<T>(string feature)
        {
            if (On(options, feature)) app.UseMiddleware<T>();
        }
        app.UseMiddleware<CatchErrorsMiddleware>();
        app.UseMiddleware<TransactionIdMiddleware>(transactionIds with { AccessLog = false });
        app.UseMiddleware<ProxyLoggingMiddleware>();
        app.UseMiddleware<HealthcheckMiddleware>();
        app.UseMiddleware<SwiftInfoMiddleware>();
        app.UseMiddleware<GatekeeperMiddleware>();
        Use<CrossDomainMiddleware>("crossdomain");
        Use<DomainRemapMiddleware>("domain_remap");
        Use<TempUrlMiddleware>("tempurl");
        Use<FormPostMiddleware>("formpost");
        app.UseMiddleware<S3Middleware>();
        app.UseMiddleware<SwiftAuthMiddleware>();
        app.UseMiddleware<PathChecksMiddleware>();
        app.UseMiddleware<CopyMiddleware>();
        Use<CorsMiddleware>("cors");
        Use<StaticWebMiddleware>("staticweb");
        Use<BulkMiddleware>("bulk");
        Use<SloMiddleware>("slo");
        Use<DloMiddleware>("dlo");
        Use<ContainerQuotaMiddleware>("container_quotas");
        Use<AccountQuotaMiddleware>("account_quotas");
        Use<ObjectVersioningMiddleware>("object_versioning");
        Use<LegacyVersioningMiddleware>("versioned_writes");
        Use<SymlinkMiddleware>("symlink");
        var router = app.ApplicationServices.GetRequiredService<SwiftRouter>();
        app.Run(router.HandleAsync);
    }
}
