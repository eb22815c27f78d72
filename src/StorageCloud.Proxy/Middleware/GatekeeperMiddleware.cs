using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's gatekeeper: clients may neither set nor see system metadata and backend headers. Inbound ones are
/// removed before any other middleware sees the request; outbound ones just before the response starts.
/// </summary>
public sealed class GatekeeperMiddleware(RequestDelegate next, ProxyOptions options)
{
    /// <summary>True for headers that belong to the cluster, not to clients.</summary>
    public static bool IsInternal(string name)
        => name.StartsWith("X-Backend-", StringComparison.OrdinalIgnoreCase)
           || name.StartsWith("X-Object-Transient-Sysmeta-", StringComparison.OrdinalIgnoreCase)
           || (name.StartsWith("X-", StringComparison.OrdinalIgnoreCase) && name.Contains("-Sysmeta-", StringComparison.OrdinalIgnoreCase)
               && (name.StartsWith("X-Account-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Container-", StringComparison.OrdinalIgnoreCase) || name.StartsWith("X-Object-", StringComparison.OrdinalIgnoreCase)));

    private static readonly string[] MetadataPrefixes =
    [
        "X-Account-Meta-", "X-Container-Meta-", "X-Object-Meta-", "X-Remove-Account-Meta-", "X-Remove-Container-Meta-", "X-Remove-Object-Meta-",
    ];

    private static bool IsMetadata(string name)
    {
        foreach (var prefix in MetadataPrefixes)
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>Filters the request, runs the pipeline, filters the response.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        List<string>? drop = null, underscored = null;
        var maxLine = options.Constraints.MaxHeaderSize;
        foreach (var (name, values) in context.Request.Headers)
        {
            if (IsInternal(name)) (drop ??= []).Add(name);
            else if (name.Contains('_') && IsMetadata(name)) (underscored ??= []).Add(name);
            // Swift's server refuses a header line longer than max_header_size (its /info value) before Swift sees it.
            foreach (var value in values)
                if (value is { Length: > 0 } && (name.Length + value.Length) * 3 + 2 > maxLine && name.Length + 2 + System.Text.Encoding.UTF8.GetByteCount(value) > maxLine)
                    return Controllers.Relay.StatusAsync(context, 400, "Header Line Too Long");
        }
        if (drop is not null) foreach (var name in drop) context.Request.Headers.Remove(name);
        // Behind WSGI, Swift reads "X-Container-Meta-a_b" as X-Container-Meta-A-B (CGI names cannot tell '_' from '-'),
        // and clients expect the metadata back under that name.
        if (underscored is not null)
            foreach (var name in underscored)
            {
                var value = context.Request.Headers[name];
                context.Request.Headers.Remove(name);
                context.Request.Headers.Append(name.Replace('_', '-'), value);
            }
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            var headers = http.Response.Headers;
            // Swift's server says a connection a client asked to keep is kept (HTTP/1.1's default, unsaid by Kestrel).
            if (headers.Connection.Count == 0 && http.Request.Headers.Connection.ToString().Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
                headers.Connection = "keep-alive";
            List<string>? hidden = null;
            foreach (var name in headers.Keys)
                if (IsInternal(name)) (hidden ??= []).Add(name);
            if (hidden is not null) foreach (var name in hidden) headers.Remove(name);
            return Task.CompletedTask;
        }, context);
        return next(context);
    }
}
