using System.Globalization;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Http;
using StorageCloud.Service.Http;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Middleware;

namespace StorageCloud.Proxy.Controllers;

/// <summary>Passes storage-node answers on to clients, and the headers clients send on to storage nodes.</summary>
public static class Relay
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Transfer-Encoding", "Connection", "Keep-Alive", "Date", "Server", "Content-Length", "X-Trans-Id",
        "X-Openstack-Request-Id", "Host", "Expect", "TE", "Trailer", "Upgrade", "Proxy-Connection",
        "X-Auth-Token", "X-Storage-Token", "Authorization", "Cookie",
    };

    /// <summary>Context item a middleware sets to fix the timestamp of the write it lets through (object versioning).</summary>
    public const string TimestampItem = "storagecloud.write_timestamp";

    /// <summary>
    /// The client's headers to send to storage nodes: everything but hop-by-hop headers and credentials, plus the
    /// transaction id so one request can be followed across nodes.
    /// </summary>
    public static List<KeyValuePair<string, string>> BackendHeaders(HttpContext context, Func<string, bool>? skip = null)
    {
        var list = new List<KeyValuePair<string, string>>(context.Request.Headers.Count + 2);
        foreach (var (name, values) in context.Request.Headers)
        {
            // The proxy orders writes: a client's own X-Timestamp would let it rewrite history.
            if (HopByHop.Contains(name) || name.Equals("X-Timestamp", StringComparison.OrdinalIgnoreCase) || (skip is not null && skip(name))) continue;
            list.Add(new(name, values.ToString()));
        }
        if (TransactionIdMiddleware.Of(context) is { } id) list.Add(new("X-Trans-Id", id));
        if (context.Items[TimestampItem] is string timestamp) list.Add(new("X-Timestamp", timestamp));
        return list;
    }

    /// <summary>
    /// Swift's X-Remove-&lt;Kind&gt;-*: each becomes the header it names with an empty value, which deletes that
    /// metadata item (or setting) on accounts and containers.
    /// </summary>
    public static void TranslateRemovals(List<KeyValuePair<string, string>> headers)
    {
        for (var i = 0; i < headers.Count; i++)
        {
            var name = headers[i].Key;
            if (!name.StartsWith("X-Remove-", StringComparison.OrdinalIgnoreCase)) continue;
            var target = "X-" + name["X-Remove-".Length..];
            headers.RemoveAll(h => h.Key.Equals(target, StringComparison.OrdinalIgnoreCase));
            i = headers.FindIndex(h => h.Key == name);
            headers[i] = new(target, "");
        }
    }

    /// <summary>Copies a node's headers to the response; non-owners never see owner-only headers.</summary>
    public static void CopyHeaders(BackendResponse from, HttpResponse to, bool owner)
    {
        foreach (var (name, value) in from.Headers())
        {
            // Backend headers stop here; system metadata goes on so middleware can read it, and the gatekeeper
            // removes it from every answer before the answer starts.
            if (HopByHop.Contains(name) || name.StartsWith("X-Backend-", StringComparison.OrdinalIgnoreCase)) continue;
            if (!owner && IsOwnerHeader(name)) continue;
            // Swift's proxy sends ETags bare (its etag-quoter is off by default).
            to.Headers[name] = name.Equals("ETag", StringComparison.OrdinalIgnoreCase) ? value.Trim('"') : value;
        }
        if (from.ContentLength is { } length) to.ContentLength = length;
    }

    /// <summary>True for headers only the account's owner may see or set (or remove, with X-Remove-).</summary>
    public static bool IsOwnerHeader(string name)
    {
        if (name.StartsWith("X-Remove-", StringComparison.OrdinalIgnoreCase)) name = "X-" + name["X-Remove-".Length..];
        foreach (var h in SwiftAuthorizer.OwnerHeaders)
            if (h.Equals(name, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// Sends a node's answer to the client: status, headers and the body streamed through (nothing is held whole).
    /// An answer the layer made up (no node answered) gets Swift's standard body for its status.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, BackendResponse response, bool owner)
    {
        if (response.Node is null || response.Status == 0)
        {
            await StatusAsync(context, response.Status == 0 ? 503 : response.Status);
            return;
        }
        if (HttpMethods.IsHead(context.Request.Method) && response.Status >= 400)
        {
            // A failed precondition still says what the object is (its ETag and dates), as Swift's does.
            if (response.Status == 412) CopyHeaders(response, context.Response, owner);
            await StatusAsync(context, response.Status);
            return;
        }
        context.Response.StatusCode = response.Status;
        SwiftResponses.SetReason(context, response.Status);
        CopyHeaders(response, context.Response, owner);
        if (HttpMethods.IsHead(context.Request.Method) || response.Status is 204 or 304) return;
        await using var body = await response.ReadBodyAsync(context.RequestAborted);
        await body.CopyToAsync(context.Response.Body, 64 * 1024, context.RequestAborted);
    }

    /// <summary>A write's outcome as Swift answers it: the status with its standard body (202 has one, 201 and 204 none).</summary>
    public static Task WriteStatusAsync(HttpContext context, int status) => StatusAsync(context, status);

    /// <summary>
    /// A status the proxy decides itself, with Swift's body for it (or <paramref name="text"/> as text/plain);
    /// a HEAD gets the headers with Content-Length 0, as Swift's proxy answers.
    /// </summary>
    public static Task StatusAsync(HttpContext context, int status, string? text = null, string? drive = null)
    {
        if (!HttpMethods.IsHead(context.Request.Method)) return SwiftResponses.WriteAsync(context, status, text, drive);
        context.Response.StatusCode = status;
        SwiftResponses.SetReason(context, status);
        context.Response.ContentType = text is null ? "text/html; charset=UTF-8" : "text/plain";
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    /// <summary>Writes a refusal from the authorizer.</summary>
    public static Task DenyAsync(HttpContext context, Denial denial, SwiftPath path)
    {
        if (denial.Body is not null) return StatusAsync(context, denial.Status, denial.Body);
        if (denial.Status == 401) context.Response.Headers.WWWAuthenticate = $"Swift realm=\"{Uri.EscapeDataString(path.Account ?? "unknown")}\"";
        return StatusAsync(context, denial.Status);
    }

    /// <summary>
    /// What Swift's proxy adds to account and container GET/HEAD answers: Accept-Ranges, a text/plain type on
    /// bodiless answers, and Vary: Accept when the format came from content negotiation.
    /// </summary>
    public static void ListingHeaders(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.AcceptRanges = "bytes";
        if (headers.ContentType.Count == 0) headers.ContentType = "text/plain; charset=utf-8";
        if (!context.Request.Query.ContainsKey("format") && headers.Vary.Count == 0) headers.Vary = "Accept";
    }

    /// <summary>The request's query string as sent ("" or "?...").</summary>
    public static string Query(HttpContext context) => context.Request.QueryString.Value ?? "";

    /// <summary>Seconds since the epoch as an integer string.</summary>
    public static string UnixSeconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
}
