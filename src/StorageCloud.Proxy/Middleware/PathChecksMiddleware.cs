using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// The checks every Swift path gets, right after authentication and before any feature middleware reads the path
/// (so none of them ever sees an object without a container): 404 for an empty version segment ("//v1/..."), as
/// Swift's split_path refuses it; 412 for invalid UTF-8 or NUL and for a URL without an
/// account, or with an object but no container ("Bad URL", as Swift's proxy answers); 404 for an object in a container
/// whose name is longer than containers may be (it cannot exist: Swift's container lookup finds nothing), rather than
/// a request the container servers refuse.
/// </summary>
public sealed class PathChecksMiddleware(RequestDelegate next, ProxyOptions options)
{
    /// <summary>Checks the request's path.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        var path = SwiftPath.Of(context);
        if (path.Version.Length == 0) return Relay.StatusAsync(context, 404);
        if (!path.ValidUtf8) return Relay.StatusAsync(context, 412, "Invalid UTF8 or contains NULL");
        if (path.Account is null || (path.Container is null && path.Object is not null))
        {
            context.Response.StatusCode = 412;
            context.Response.ContentType = "text/html; charset=UTF-8";
            context.Response.ContentLength = 7;
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync("Bad URL");
        }
        if (path.Object is not null && Encoding.UTF8.GetByteCount(path.Container!) > options.Constraints.MaxContainerNameLength)
            return Relay.StatusAsync(context, 404);
        return next(context);
    }
}
