using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;

namespace StorageCloud.Proxy.Controllers;

/// <summary>
/// The end of the proxy pipeline: picks the account, container or object controller from the path, as Swift's
/// get_controller does, after the checks every path gets (UTF-8, API version).
/// </summary>
public sealed class SwiftRouter(AccountController accounts, ContainerController containers, ObjectController objects, ProxyOptions options)
{
    /// <summary>Handles one request.</summary>
    public Task HandleAsync(HttpContext context)
    {
        var path = SwiftPath.Of(context);
        if (!path.ValidUtf8) return Relay.StatusAsync(context, 412, "Invalid UTF8 or contains NULL");
        if (path.Account is null || (path.Container is null && path.Object is not null))
        {
            context.Response.StatusCode = 412;
            context.Response.ContentType = "text/html; charset=UTF-8";
            context.Response.ContentLength = 7;
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync("Bad URL");
        }
        if (!options.Constraints.ValidApiVersions.Contains(path.Version)) return Relay.StatusAsync(context, 400);
        if (path.Object is not null) return objects.HandleAsync(context, path);
        if (path.Container is not null) return containers.HandleAsync(context, path);
        return accounts.HandleAsync(context, path);
    }
}
