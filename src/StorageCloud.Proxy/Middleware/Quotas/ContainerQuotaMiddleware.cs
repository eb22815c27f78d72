using System.Globalization;
using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;
using StorageCloud.Proxy.Middleware.Versioning;

namespace StorageCloud.Proxy.Middleware.Quotas;

/// <summary>
/// Swift's container_quotas: X-Container-Meta-Quota-Bytes and -Quota-Count must be integers, and an object write
/// (PUT, COPY, X-Copy-From, SLO manifests) that would take the container past either is refused with 413.
/// </summary>
public sealed class ContainerQuotaMiddleware(RequestDelegate next, Cluster cluster, SwiftAuthorizer authorizer)
{
    /// <summary>Checks the request against the container's quotas.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var path = SwiftPath.Of(context);
        var method = context.Request.Method;
        if (path.Container is not null && path.Object is null && method is "PUT" or "POST")
        {
            if (context.Request.Headers["X-Container-Meta-Quota-Bytes"].ToString() is { Length: > 0 } b && !IsDigits(b))
            {
                await Relay.StatusAsync(context, 400, "Invalid bytes quota.");
                return;
            }
            if (context.Request.Headers["X-Container-Meta-Quota-Count"].ToString() is { Length: > 0 } n && !IsDigits(n))
            {
                await Relay.StatusAsync(context, 400, "Invalid count quota.");
                return;
            }
        }
        else if (await QuotaTarget.OfAsync(context, cluster) is { } target)
        {
            var info = await cluster.GetContainerInfoAsync(target.Account, target.Container, cancellationToken: context.RequestAborted);
            if (info.Exists && (info.Meta("Quota-Bytes") is not null || info.Meta("Quota-Count") is not null))
            {
                // Quotas are counted against the container's current totals, not a cached copy.
                cluster.Cache.Invalidate(target.Account, target.Container);
                info = await cluster.GetContainerInfoAsync(target.Account, target.Container, cancellationToken: context.RequestAborted);
                // Older versions count against the quota too, as Swift's container HEAD reports them in the bytes used.
                var used = info.BytesUsed;
                if (Limit(info.Meta("Quota-Bytes")) is not null && info.Header(ObjectVersioningMiddleware.EnabledSysmeta) is { Length: > 0 })
                    used += await ObjectVersioningMiddleware.VersionsBytesAsync(cluster, target.Account, target.Container, context.RequestAborted);
                var over = (Limit(info.Meta("Quota-Bytes")) is { } bytes && used + target.Bytes > bytes)
                           || (Limit(info.Meta("Quota-Count")) is { } count && info.ObjectCount + 1 > count);
                if (over)
                {
                    var dest = new SwiftPath("v1", target.Account, target.Container, target.Object, true);
                    if (await authorizer.AuthorizeAsync(context, dest, info.WriteAcl, "PUT") is { } denial) await Relay.DenyAsync(context, denial, dest);
                    else await Relay.StatusAsync(context, 413, "Upload exceeds quota.");
                    return;
                }
            }
        }
        await next(context);
    }

    private static long? Limit(string? value) => value is not null && IsDigits(value) ? long.Parse(value, CultureInfo.InvariantCulture) : null;

    internal static bool IsDigits(string value)
    {
        foreach (var c in value)
            if (c is < '0' or > '9') return false;
        return value.Length > 0 && value.Length < 19;
    }
}
