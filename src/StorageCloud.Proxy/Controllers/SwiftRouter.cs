using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;

namespace StorageCloud.Proxy.Controllers;

/// <summary>
/// The end of the proxy pipeline: picks the account, container or object controller from the path, as Swift's
/// get_controller does, once the API version is known (PathChecksMiddleware has checked the path itself).
/// </summary>
public sealed class SwiftRouter(AccountController accounts, ContainerController containers, ObjectController objects, ProxyOptions options)
{
    /// <summary>Handles one request.</summary>
    public Task HandleAsync(HttpContext context)
    {
        var path = SwiftPath.Of(context);
        if (!options.Constraints.ValidApiVersions.Contains(path.Version)) return Relay.StatusAsync(context, 400);
        if (path.Object is not null) return objects.HandleAsync(context, path);
        if (path.Container is not null) return containers.HandleAsync(context, path);
        return accounts.HandleAsync(context, path);
    }
}
