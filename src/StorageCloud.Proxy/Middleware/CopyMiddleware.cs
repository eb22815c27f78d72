using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.Common.Text;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's copy middleware: a COPY (to Destination, in Destination-Account) becomes the PUT of the destination with
/// X-Copy-From naming this object, early enough that every feature below (quotas, large objects, versioning,
/// symlinks) sees the write where it lands rather than at its source.
/// </summary>
public sealed class CopyMiddleware(RequestDelegate next)
{
    /// <summary>Rewrites COPY requests for objects; everything else passes untouched.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Method != "COPY") return next(context);
        var path = SwiftPath.Of(context);
        // The object controller answers COPY of anything but an object (405) as before.
        if (path.Object is null || !path.ValidUtf8) return next(context);
        var destination = request.Headers["Destination"].ToString();
        if (destination.Length == 0) return Relay.StatusAsync(context, 412, "You must specify a destination header");
        if (!ObjectController.TrySplitObjectPath(destination, out var container, out var obj))
            return Relay.StatusAsync(context, 412, "Destination header must be of the form <container name>/<object name>");
        var account = path.Account!;
        if (request.Headers["Destination-Account"].ToString() is { Length: > 0 } given)
        {
            if (!PercentEncoding.TryDecode(given, out account) || account.Length == 0 || account.Contains('/') || account.Contains('\0'))
                return Relay.StatusAsync(context, 412, "Account name cannot contain slashes");
        }
        request.Headers.Remove("Destination");
        request.Headers.Remove("Destination-Account");
        request.Headers["X-Copy-From"] = "/" + BackendPath.Quote(path.Container!) + "/" + BackendPath.Quote(path.Object);
        request.Headers["X-Copy-From-Account"] = BackendPath.Quote(path.Account!);
        request.Headers.ContentLength = 0;
        request.Method = "PUT";
        SwiftPath.Rewrite(context, (path with { Account = account, Container = container, Object = obj }).ToUrlPath() + request.QueryString.Value);
        return next(context);
    }
}
