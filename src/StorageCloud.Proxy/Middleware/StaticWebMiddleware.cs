using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's staticweb: anonymous GET/HEAD (or any with X-Web-Mode: true) of a container with
/// X-Container-Meta-Web-Index / -Web-Listings serves it as a web site: index pages, HTML listings (styled by
/// -Web-Listings-CSS), directory markers of -Web-Directory-Type, and &lt;status&gt;&lt;-Web-Error&gt; error pages.
/// </summary>
public sealed class StaticWebMiddleware(RequestDelegate next, Cluster cluster, SwiftAuthorizer authorizer)
{
    private sealed record Site(string Index, string Error, bool Listings, string ListingsLabel, string Css, string DirType);

    /// <summary>Serves web-mode requests; passes API requests on.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var path = SwiftPath.Of(context);
        var webMode = IsTrue(request.Headers["X-Web-Mode"].ToString());
        if (!(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) || path.Container is null || !path.ValidUtf8
            || (SwiftAuthState.Of(context).Identity is not null && !webMode))
        {
            await next(context);
            return;
        }
        var info = await cluster.GetContainerInfoAsync(path.Account!, path.Container, cancellationToken: context.RequestAborted);
        if (!info.Exists)
        {
            await next(context);
            return;
        }
        var site = new Site(Meta(info, "Web-Index"), Meta(info, "Web-Error"), IsTrue(Meta(info, "Web-Listings")), Meta(info, "Web-Listings-Label"),
            Meta(info, "Web-Listings-Css"), Meta(info, "Web-Directory-Type") is { Length: > 0 } d ? d : "application/directory");
        var raw = RawPath(context);
        if (path.Object is null) await ContainerAsync(context, path, site, info, raw, webMode);
        else await ObjectAsync(context, path, site, raw);
    }

    private async Task ContainerAsync(HttpContext context, SwiftPath path, Site site, ContainerInfo info, string raw, bool webMode)
    {
        if (await authorizer.AuthorizeAsync(context, path, info.ReadAcl) is { } denial)
        {
            await ErrorAsync(context, path, site, denial.Status, () => Relay.DenyAsync(context, denial, path));
            return;
        }
        if (!site.Listings && site.Index.Length == 0)
        {
            if (webMode) await Relay.StatusAsync(context, 404);
            else await next(context);
            return;
        }
        if (!raw.EndsWith('/'))
        {
            await RedirectWithSlashAsync(context, raw);
            return;
        }
        if (site.Index.Length > 0)
        {
            var probe = await SubRequest.SendAsync(context, next, "HEAD", raw + SwiftPath.QuoteKeepSlash(site.Index));
            if (probe.Status is >= 200 and < 400)
            {
                SwiftPath.Rewrite(context, raw + SwiftPath.QuoteKeepSlash(site.Index));
                await next(context);
                return;
            }
            if (probe.Status != 404)
            {
                await ErrorAsync(context, path, site, probe.Status, () => Relay.StatusAsync(context, probe.Status));
                return;
            }
        }
        await ListingAsync(context, path, site, null);
    }

    private async Task ObjectAsync(HttpContext context, SwiftPath path, Site site, string raw)
    {
        var probe = await SubRequest.SendAsync(context, next, "HEAD", raw);
        var status = probe.Status;
        if (status is >= 200 and < 400)
        {
            var isDirectoryMarker = probe.Headers.ContentType.ToString() == site.DirType && (probe.Headers.ContentLength ?? 0) <= 1;
            if (!isDirectoryMarker)
            {
                await next(context);
                return;
            }
            status = 404;
        }
        if (status != 404 || (!site.Listings && site.Index.Length == 0))
        {
            if (status == 404) await ErrorAsync(context, path, site, 404, () => next(context));
            else await next(context);
            return;
        }
        if (site.Index.Length > 0)
        {
            var indexPath = (raw.EndsWith('/') ? raw : raw + "/") + SwiftPath.QuoteKeepSlash(site.Index);
            var index = await SubRequest.SendAsync(context, next, "HEAD", indexPath);
            if (index.Status is >= 200 and < 400)
            {
                if (!raw.EndsWith('/')) await RedirectWithSlashAsync(context, raw);
                else
                {
                    SwiftPath.Rewrite(context, indexPath);
                    await next(context);
                }
                return;
            }
        }
        if (!raw.EndsWith('/'))
        {
            var listing = await ListAsync(context, path, path.Object + "/", 1);
            if (listing is not { Count: > 0 }) await ErrorAsync(context, path, site, 404, () => Relay.StatusAsync(context, 404));
            else await RedirectWithSlashAsync(context, raw);
            return;
        }
        await ListingAsync(context, path, site, path.Object);
    }

    /// <summary>Serves &lt;status&gt;&lt;Web-Error&gt; from the container with the error's status, or the plain error.</summary>
    private async Task ErrorAsync(HttpContext context, SwiftPath path, Site site, int status, Func<Task> plain)
    {
        if (site.Error.Length > 0)
        {
            var page = $"/{path.Version}/{SwiftPath.QuoteKeepSlash(path.Account!)}/{SwiftPath.QuoteKeepSlash(path.Container!)}/{status}{SwiftPath.QuoteKeepSlash(site.Error)}";
            // As the caller: an error page is only shown to someone allowed to read it.
            var probe = await SubRequest.SendAsync(context, next, "HEAD", page);
            if (probe.Status is >= 200 and < 300)
            {
                SwiftPath.Rewrite(context, page);
                context.Response.OnStarting(() =>
                {
                    context.Response.StatusCode = status;
                    return Task.CompletedTask;
                });
                await next(context);
                return;
            }
        }
        await plain();
    }

    private async Task<List<JsonElement>?> ListAsync(HttpContext context, SwiftPath path, string? prefix, int? limit)
    {
        var query = "?format=json&delimiter=/" + (prefix is null ? "" : "&prefix=" + Uri.EscapeDataString(prefix)) + (limit is null ? "" : $"&limit={limit}");
        using var body = new MemoryStream();
        var response = await SubRequest.SendAsync(context, next, "GET",
            $"/{path.Version}/{SwiftPath.QuoteKeepSlash(path.Account!)}/{SwiftPath.QuoteKeepSlash(path.Container!)}{query}", responseBody: body);
        if (response.Status is < 200 or >= 300) return null;
        if (body.Length == 0) return [];
        return [.. JsonDocument.Parse(body.ToArray()).RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>Swift's HTML listing of a (pseudo-)directory.</summary>
    private async Task ListingAsync(HttpContext context, SwiftPath path, Site site, string? prefix)
    {
        var label = context.Request.Path.Value ?? "";
        if (site.ListingsLabel.Length > 0) label = $"{site.ListingsLabel}/{string.Join('/', label.Split('/').Skip(4))}";
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">\n<html>\n");
        if (!site.Listings)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<head>\n<title>Listing of {WebUtility.HtmlEncode(label)}</title>\n");
            sb.Append(site.Css.Length > 0 ? $"  <link rel=\"stylesheet\" type=\"text/css\" href=\"{CssPath(site, prefix ?? "")}\" />\n"
                : "  <style type=\"text/css\">\n   h1 {font-size: 1em; font-weight: bold;}\n   p {font-size: 2}\n  </style>\n");
            sb.Append("</head>\n<body>  <h1>Web Listing Disabled</h1>   <p>The owner of this web site has disabled web listing.   <p>If you are the owner of this web site, you can enable   web listing by setting X-Container-Meta-Web-Listings.</p>");
            if (site.Index.Length > 0)
                sb.Append(CultureInfo.InvariantCulture, $"<h1>Index File Not Found</h1> <p>The owner of this web site has set  <b>X-Container-Meta-Web-Index: {site.Index}</b>.  However, this file is not found.</p>");
            sb.Append(" </body>\n</html>\n");
            await ErrorAsync(context, path, site, 404, () => Html(context, 404, sb.ToString()));
            return;
        }
        var listing = await ListAsync(context, path, prefix, null);
        if (listing is null || (prefix is not null && listing.Count == 0))
        {
            await ErrorAsync(context, path, site, 404, () => Relay.StatusAsync(context, 404));
            return;
        }
        sb.Append(CultureInfo.InvariantCulture, $" <head>\n  <title>Listing of {WebUtility.HtmlEncode(label)}</title>\n");
        sb.Append(site.Css.Length > 0 ? $"  <link rel=\"stylesheet\" type=\"text/css\" href=\"{CssPath(site, prefix ?? "")}\" />\n"
            : "  <style type=\"text/css\">\n   h1 {font-size: 1em; font-weight: bold;}\n   th {text-align: left; padding: 0px 1em 0px 1em;}\n   td {padding: 0px 1em 0px 1em;}\n   a {text-decoration: none;}\n  </style>\n");
        sb.Append(CultureInfo.InvariantCulture, $" </head>\n <body>\n  <h1 id=\"title\">Listing of {WebUtility.HtmlEncode(label)}</h1>\n  <table id=\"listing\">\n   <tr id=\"heading\">\n    <th class=\"colname\">Name</th>\n    <th class=\"colsize\">Size</th>\n    <th class=\"coldate\">Date</th>\n   </tr>\n");
        if (prefix is not null)
            sb.Append("   <tr id=\"parent\" class=\"item\">\n    <td class=\"colname\"><a href=\"../\">../</a></td>\n    <td class=\"colsize\">&nbsp;</td>\n    <td class=\"coldate\">&nbsp;</td>\n   </tr>\n");
        foreach (var item in listing)
        {
            if (!item.TryGetProperty("subdir", out var subdir)) continue;
            var name = subdir.GetString()![(prefix?.Length ?? 0)..];
            sb.Append(CultureInfo.InvariantCulture, $"   <tr class=\"item subdir\">\n    <td class=\"colname\"><a href=\"{SwiftPath.QuoteKeepSlash(name)}\">{WebUtility.HtmlEncode(name)}</a></td>\n    <td class=\"colsize\">&nbsp;</td>\n    <td class=\"coldate\">&nbsp;</td>\n   </tr>\n");
        }
        foreach (var item in listing)
        {
            if (!item.TryGetProperty("name", out var n)) continue;
            var name = n.GetString()![(prefix?.Length ?? 0)..];
            var type = item.GetProperty("content_type").GetString() ?? "";
            var classes = string.Join(' ', type.Split('/').Select(t => "type-" + WebUtility.HtmlEncode(t.ToLowerInvariant())));
            var modified = WebUtility.HtmlEncode(item.GetProperty("last_modified").GetString() ?? "").Split('.')[0].Replace('T', ' ');
            sb.Append(CultureInfo.InvariantCulture, $"   <tr class=\"item {classes}\">\n    <td class=\"colname\"><a href=\"{SwiftPath.QuoteKeepSlash(name)}\">{WebUtility.HtmlEncode(name)}</a></td>\n    <td class=\"colsize\">{HumanReadable(item.GetProperty("bytes").GetInt64())}</td>\n    <td class=\"coldate\">{modified}</td>\n   </tr>\n");
        }
        sb.Append("  </table>\n </body>\n</html>\n");
        await Html(context, 200, sb.ToString());
    }

    private static Task Html(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/html; charset=UTF-8";
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength = bytes.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    private static string CssPath(Site site, string prefix)
        => site.Css.StartsWith('/') || site.Css.StartsWith("http://", StringComparison.Ordinal) || site.Css.StartsWith("https://", StringComparison.Ordinal)
            ? site.Css
            : string.Concat(Enumerable.Repeat("../", prefix.Count(c => c == '/'))) + SwiftPath.QuoteKeepSlash(site.Css);

    /// <summary>Swift's human_readable: 1048576 → "1Mi".</summary>
    private static string HumanReadable(long value)
    {
        double v = value;
        var index = -1;
        const string suffixes = "KMGTPEZY";
        while (v >= 1024 && index + 1 < suffixes.Length)
        {
            index++;
            v = Math.Round(v / 1024, MidpointRounding.ToEven);
        }
        return index == -1 ? ((long)v).ToString(CultureInfo.InvariantCulture) : $"{(long)Math.Round(v, MidpointRounding.ToEven)}{suffixes[index]}i";
    }

    private static Task RedirectWithSlashAsync(HttpContext context, string raw)
    {
        context.Response.Headers.Location = HostUrl(context.Request) + raw.Split('?')[0] + "/";
        return Relay.StatusAsync(context, 301);
    }

    /// <summary>
    /// scheme://host[:port] as the client addressed us: Swift makes redirect locations absolute this way, and
    /// clients that compare them (its functional tests among them) expect it. Default ports are left out.
    /// </summary>
    private static string HostUrl(HttpRequest request)
    {
        var scheme = string.IsNullOrEmpty(request.Scheme) ? "http" : request.Scheme;
        var host = request.Headers.Host.ToString();
        if (host.Length == 0)
        {
            var local = request.HttpContext.Connection;
            host = $"{local.LocalIpAddress?.ToString() ?? "localhost"}:{local.LocalPort.ToString(CultureInfo.InvariantCulture)}";
        }
        if ((scheme == "http" && host.EndsWith(":80", StringComparison.Ordinal)) || (scheme == "https" && host.EndsWith(":443", StringComparison.Ordinal)))
            host = host[..host.LastIndexOf(':')];
        return $"{scheme}://{host}";
    }

    private static string RawPath(HttpContext context)
    {
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var q = raw.IndexOf('?');
        return q < 0 ? raw : raw[..q];
    }

    private static string Meta(ContainerInfo info, string name) => info.Meta(name)?.Trim() ?? "";

    private static bool IsTrue(string? value) => value is not null && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value is "1" or "yes" or "on" or "t" or "y");
}
