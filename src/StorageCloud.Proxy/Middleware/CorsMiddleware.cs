using Microsoft.AspNetCore.Http;
using StorageCloud.Proxy.Controllers;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's CORS: OPTIONS answers (with a preflight check against the container's
/// X-Container-Meta-Access-Control-Allow-Origin when an Origin is sent), and Access-Control-* headers on the
/// answers to container and object requests from allowed origins.
/// </summary>
public sealed class CorsMiddleware(RequestDelegate next, Cluster cluster, ProxyOptions options)
{
    private const string BaseMethods = "GET, HEAD, PUT, POST, DELETE, OPTIONS";
    private static readonly string[] DefaultExpose =
        ["cache-control", "content-language", "content-type", "expires", "last-modified", "pragma", "etag", "x-timestamp", "x-trans-id", "x-openstack-request-id"];

    /// <summary>Answers OPTIONS, or decorates the answer of any other request with an Origin.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var path = SwiftPath.Of(context);
        var isApi = path.Account is not null && path.ValidUtf8 && options.Constraints.ValidApiVersions.Contains(path.Version);
        if (!isApi)
        {
            await next(context);
            return;
        }
        var origin = context.Request.Headers.Origin.ToString();
        if (HttpMethods.IsOptions(context.Request.Method))
        {
            await PreflightAsync(context, path, origin);
            return;
        }
        if (origin.Length == 0 || path.Container is null)
        {
            await next(context);
            return;
        }
        var info = await cluster.GetContainerInfoAsync(path.Account!, path.Container, cancellationToken: context.RequestAborted);
        var allowOrigin = info.Meta("Access-Control-Allow-Origin");
        if (!options.StrictCorsMode || IsAllowed(allowOrigin, origin))
        {
            var exposeExtra = info.Meta("Access-Control-Expose-Headers");
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                if (!headers.ContainsKey("Access-Control-Expose-Headers"))
                {
                    var expose = new HashSet<string>(DefaultExpose, StringComparer.Ordinal);
                    foreach (var h in options.CorsExposeHeaders) expose.Add(h.ToLowerInvariant());
                    foreach (var name in headers.Keys)
                        if (name.StartsWith("X-Container-Meta", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Object-Meta", StringComparison.OrdinalIgnoreCase))
                            expose.Add(name.ToLowerInvariant());
                    if (exposeExtra is not null)
                        foreach (var h in exposeExtra.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) expose.Add(h.ToLowerInvariant());
                    headers["Access-Control-Expose-Headers"] = string.Join(", ", expose);
                }
                if (!headers.ContainsKey("Access-Control-Allow-Origin")) AllowOrigin(headers, allowOrigin, origin);
                return Task.CompletedTask;
            });
        }
        await next(context);
    }

    private async Task PreflightAsync(HttpContext context, SwiftPath path, string origin)
    {
        var methods = path.Object is not null ? BaseMethods + ", COPY" : BaseMethods;
        var response = context.Response;
        response.Headers.Allow = methods;
        response.ContentType = "text/html; charset=UTF-8";
        response.ContentLength = 0;
        if (origin.Length == 0 || path.Container is null)
        {
            response.StatusCode = 200;
            return;
        }
        var info = await cluster.GetContainerInfoAsync(path.Account!, path.Container, cancellationToken: context.RequestAborted);
        var allowOrigin = info.Meta("Access-Control-Allow-Origin");
        var requested = context.Request.Headers["Access-Control-Request-Method"].ToString();
        var allowedMethods = methods.Split(", ");
        if (!IsAllowed(allowOrigin, origin) || Array.IndexOf(allowedMethods, requested) < 0)
        {
            response.Headers.Allow = BaseMethods;
            await Controllers.Relay.StatusAsync(context, 401);
            return;
        }
        response.StatusCode = 200;
        var vary = AllowOrigin(response.Headers, allowOrigin, origin);
        if (info.Meta("Access-Control-Max-Age") is { } maxAge) response.Headers.AccessControlMaxAge = maxAge;
        response.Headers.AccessControlAllowMethods = methods;
        var requestedHeaders = context.Request.Headers.AccessControlRequestHeaders.ToString()
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (requestedHeaders.Length > 0)
        {
            response.Headers.AccessControlAllowHeaders = string.Join(", ", new HashSet<string>(requestedHeaders, StringComparer.Ordinal));
            response.Headers.Vary = vary ? "Origin, Access-Control-Request-Headers" : "Access-Control-Request-Headers";
        }
    }

    /// <summary>Sets Access-Control-Allow-Origin ("*" when the container allows all); true when it echoed the origin (and varied on it).</summary>
    private static bool AllowOrigin(IHeaderDictionary headers, string? allowOrigin, string origin)
    {
        if (allowOrigin is not null && allowOrigin.Trim() == "*")
        {
            headers.AccessControlAllowOrigin = "*";
            return false;
        }
        headers.AccessControlAllowOrigin = origin;
        headers.Vary = headers.Vary.Count > 0 ? headers.Vary + ", Origin" : "Origin";
        return true;
    }

    private bool IsAllowed(string? allowOrigin, string origin)
    {
        var allowed = new HashSet<string>(options.CorsAllowOrigin, StringComparer.Ordinal);
        if (allowOrigin is not null)
            foreach (var a in allowOrigin.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) allowed.Add(a);
        return allowed.Contains(origin) || allowed.Contains("*");
    }
}
