using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's gatekeeper: clients may neither set nor see system metadata and backend headers. Inbound ones are
/// removed before any other middleware sees the request; outbound ones just before the response starts.
/// </summary>
public sealed class GatekeeperMiddleware(RequestDelegate next)
{
    /// <summary>True for headers that belong to the cluster, not to clients.</summary>
    public static bool IsInternal(string name)
        => name.StartsWith("X-Backend-", StringComparison.OrdinalIgnoreCase)
           || name.StartsWith("X-Object-Transient-Sysmeta-", StringComparison.OrdinalIgnoreCase)
           || (name.StartsWith("X-", StringComparison.OrdinalIgnoreCase) && name.Contains("-Sysmeta-", StringComparison.OrdinalIgnoreCase)
               && (name.StartsWith("X-Account-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Container-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Object-", StringComparison.OrdinalIgnoreCase)));

    /// <summary>Filters the request, runs the pipeline, filters the response.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        List<string>? drop = null;
        foreach (var name in context.Request.Headers.Keys)
            if (IsInternal(name)) (drop ??= []).Add(name);
        if (drop is not null) foreach (var name in drop) context.Request.Headers.Remove(name);
        context.Response.OnStarting(static state =>
        {
            var headers = ((HttpContext)state).Response.Headers;
            List<string>? hidden = null;
            foreach (var name in headers.Keys)
                if (IsInternal(name)) (hidden ??= []).Add(name);
            if (hidden is not null) foreach (var name in hidden) headers.Remove(name);
            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}
