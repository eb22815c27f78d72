using Microsoft.AspNetCore.Http;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's domain_remap: a request to a host under one of the storage domains names its account, and optionally its
/// container, in the host ("&lt;container&gt;.&lt;account&gt;.&lt;domain&gt;"), so static websites and public containers get
/// URLs of their own. The path becomes /v1/&lt;account&gt;[/&lt;container&gt;]&lt;path&gt; before anything else reads it, and
/// a Location the rest of the pipeline answers with is put back into the host's terms.
/// </summary>
public sealed class DomainRemapMiddleware(RequestDelegate next, ProxyOptions options)
{
    /// <summary>Settings Swift's /info shows for domain_remap.</summary>
    public static Dictionary<string, object> Info => new() { ["default_reseller_prefix"] = null! };

    /// <summary>Rewrites requests to hosts under a storage domain; others pass untouched.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        var host = context.Request.Host.Host;
        var domain = StorageDomainOf(host);
        if (domain is null) return next(context);
        var parts = host[..^domain.Length].Trim('.').Split('.');
        if (parts.Length > 2 || parts[^1].Length == 0) return Relay.StatusAsync(context, 400, "Bad domain in host header");
        var account = parts[^1];
        var container = parts.Length == 2 ? parts[0] : null;
        // DNS names cannot hold '_': "AUTH-test" stands for AUTH_test.
        if (!account.Contains('_') && account.Contains('-'))
        {
            var dash = account.IndexOf('-');
            account = account[..dash] + "_" + account[(dash + 1)..];
        }
        var prefix = options.ResellerPrefix.TrimEnd('_');
        var underscore = account.IndexOf('_');
        if (underscore < 0 || !account[..underscore].Equals(prefix, StringComparison.OrdinalIgnoreCase)) return next(context);
        account = prefix + account[underscore..];

        var feature = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>();
        var requested = feature?.RawTarget ?? context.Request.Path.Value ?? "/";
        var query = requested.IndexOf('?');
        var requestedPath = query < 0 ? requested : requested[..query];
        var remappedPath = "/v1/" + Uri.EscapeDataString(account) + (container is null ? "" : "/" + Uri.EscapeDataString(container)) + requestedPath;
        SwiftPath.Rewrite(context, remappedPath + (query < 0 ? "" : requested[query..]));
        context.Response.OnStarting(() =>
        {
            // A redirect the pipeline made in path terms (static web's trailing slash) is given back in the host's.
            var location = context.Response.Headers.Location.ToString();
            if (location.Length > 0 && Unmap(location, remappedPath, requestedPath) is { } unmapped) context.Response.Headers.Location = unmapped;
            return Task.CompletedTask;
        });
        return next(context);
    }

    private string? StorageDomainOf(string host)
    {
        if (host.Length == 0) return null;
        // The S3 API's own domain is not a storage domain, even if one is a suffix of the other.
        if (options.S3BaseDomain is { Length: > 0 } s3 && host.EndsWith("." + s3, StringComparison.OrdinalIgnoreCase)) return null;
        foreach (var domain in options.StorageDomains)
        {
            var suffix = "." + domain.TrimStart('.');
            if (host.Length > suffix.Length && host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return suffix;
        }
        return null;
    }

    /// <summary>"scheme://host" + remapped path + rest → "scheme://host" + requested path + rest, or null when it is not one of ours.</summary>
    private static string? Unmap(string location, string remappedPath, string requestedPath)
    {
        var start = 0;
        var scheme = location.IndexOf("://", StringComparison.Ordinal);
        if (scheme > 0)
        {
            start = location.IndexOf('/', scheme + 3);
            if (start < 0) return null;
        }
        if (string.CompareOrdinal(location, start, remappedPath, 0, remappedPath.Length) != 0) return null;
        return location[..start] + requestedPath + location[(start + remappedPath.Length)..];
    }
}
