using System.Globalization;
using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware.Quotas;

/// <summary>
/// Swift's account_quotas: only a reseller admin may set (or remove) X-Account-Meta-Quota-Bytes; an object write
/// that would take the account past it is refused with 413, once the caller is otherwise allowed to write.
/// </summary>
public sealed class AccountQuotaMiddleware(RequestDelegate next, Cluster cluster, SwiftAuthorizer authorizer)
{
    /// <summary>Checks the request against the account's quota.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var path = SwiftPath.Of(context);
        var request = context.Request;
        if (path.Account is not null && path.Container is null && request.Method is "PUT" or "POST")
        {
            var quota = request.Headers["X-Account-Meta-Quota-Bytes"].ToString();
            // An empty value removes the quota too, which is as much the reseller's business as setting it.
            var removing = request.Headers.ContainsKey("X-Remove-Account-Meta-Quota-Bytes") || (quota.Length == 0 && request.Headers.ContainsKey("X-Account-Meta-Quota-Bytes"));
            if (quota.Length > 0 || removing)
            {
                if (SwiftAuthState.Of(context).Identity?.IsResellerAdmin != true)
                {
                    await Relay.StatusAsync(context, 403);
                    return;
                }
                if (!removing && !ContainerQuotaMiddleware.IsDigits(quota))
                {
                    await Relay.StatusAsync(context, 400);
                    return;
                }
            }
        }
        else if (await QuotaTarget.OfAsync(context, cluster) is { } target)
        {
            var info = await cluster.GetAccountInfoAsync(target.Account, cancellationToken: context.RequestAborted);
            if (long.TryParse(info.Meta("Quota-Bytes"), NumberStyles.None, CultureInfo.InvariantCulture, out var limit))
            {
                cluster.Cache.Invalidate(target.Account);
                info = await cluster.GetAccountInfoAsync(target.Account, cancellationToken: context.RequestAborted);
                if (info.BytesUsed + target.Bytes > limit)
                {
                    var containerInfo = await cluster.GetContainerInfoAsync(target.Account, target.Container, cancellationToken: context.RequestAborted);
                    var dest = new SwiftPath("v1", target.Account, target.Container, target.Object, true);
                    if (await authorizer.AuthorizeAsync(context, dest, containerInfo.WriteAcl, "PUT") is { } denial) await Relay.DenyAsync(context, denial, dest);
                    else await Relay.StatusAsync(context, 413, "Upload exceeds quota.");
                    return;
                }
            }
        }
        await next(context);
    }
}
