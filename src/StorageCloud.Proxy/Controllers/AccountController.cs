using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using StorageCloud.Common.Constraints;
using StorageCloud.Common.Http;
using StorageCloud.Common.Time;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;

namespace StorageCloud.Proxy.Controllers;

/// <summary>Swift's account API: GET (container listing), HEAD, POST (metadata, ACLs); PUT and DELETE for reseller admins.</summary>
public sealed class AccountController(Cluster cluster, SwiftAuthorizer authorizer, ProxyOptions options)
{
    private const string AclSysmeta = "X-Account-Sysmeta-Core-Access-Control";

    /// <summary>Handles a request for /v1/account.</summary>
    public async Task HandleAsync(HttpContext context, SwiftPath path)
    {
        var account = path.Account!;
        if (Encoding.UTF8.GetByteCount(account) > options.Constraints.MaxAccountNameLength)
        {
            await Relay.StatusAsync(context, 400, $"Account name length of {Encoding.UTF8.GetByteCount(account)} longer than {options.Constraints.MaxAccountNameLength}");
            return;
        }
        var method = context.Request.Method;
        if (method is not ("GET" or "HEAD" or "POST" or "PUT" or "DELETE" or "OPTIONS"))
        {
            context.Response.Headers.Allow = "DELETE, GET, HEAD, OPTIONS, POST, PUT";
            await Relay.StatusAsync(context, 405);
            return;
        }
        if (await authorizer.AuthorizeAsync(context, path, null) is { } denial)
        {
            await Relay.DenyAsync(context, denial, path);
            return;
        }
        var owner = SwiftAuthState.Of(context).Owner;
        switch (method)
        {
            case "GET" or "HEAD":
                await ReadAsync(context, account, owner);
                break;
            case "POST":
                await PostAsync(context, account, owner);
                break;
            case "OPTIONS":
                context.Response.Headers.Allow = "DELETE, GET, HEAD, OPTIONS, POST, PUT";
                await Relay.StatusAsync(context, 200);
                break;
            default:
                await ManageAsync(context, account, method);
                break;
        }
    }

    private async Task ReadAsync(HttpContext context, string account, bool owner)
    {
        var headers = Relay.BackendHeaders(context);
        using var response = await cluster.AccountReadAsync(new HttpMethod(context.Request.Method), account, Relay.Query(context), headers,
            newest: context.Request.Headers["X-Newest"].ToString().Equals("true", StringComparison.OrdinalIgnoreCase), context.RequestAborted);
        if (response.Status == 404 && cluster.Options.AccountAutocreate)
        {
            await EmptyListingAsync(context, account);
            return;
        }
        if (owner && response.Header(AclSysmeta) is { Length: > 0 } acl) context.Response.Headers["X-Account-Access-Control"] = acl;
        if (response.IsSuccess) Relay.ListingHeaders(context);
        await Relay.WriteAsync(context, response, owner);
    }

    /// <summary>An account that does not exist yet lists as empty (Swift's account_autocreate answer).</summary>
    private static async Task EmptyListingAsync(HttpContext context, string account)
    {
        var now = SwiftTimestamp.Now().Normal;
        var format = ListingFormats.Choose(context.Request);
        var r = context.Response;
        r.Headers["X-Account-Container-Count"] = "0";
        r.Headers["X-Account-Object-Count"] = "0";
        r.Headers["X-Account-Bytes-Used"] = "0";
        r.Headers["X-Timestamp"] = now;
        r.Headers["X-Put-Timestamp"] = now;
        r.Headers.Vary = "Accept";
        var body = format switch
        {
            "json" => "[]",
            "xml" => $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<account name=\"{System.Security.SecurityElement.Escape(account)}\">\n</account>",
            _ => "",
        };
        // Swift answers a HEAD of an account it has not made yet with 200, and an empty plain listing with 204.
        r.StatusCode = body.Length == 0 && !HttpMethods.IsHead(context.Request.Method) ? 204 : 200;
        r.ContentType = ListingFormats.ContentType(format);
        var bytes = Encoding.UTF8.GetBytes(body);
        r.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method) && bytes.Length > 0) await r.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private async Task PostAsync(HttpContext context, string account, bool owner)
    {
        if (MetadataRules.Check(context.Request.Headers, "Account", options.Constraints) is { } problem)
        {
            await Relay.StatusAsync(context, 400, problem);
            return;
        }
        var headers = AccountHeaders(context, owner);
        using var result = await cluster.AccountWriteAsync(HttpMethod.Post, account, headers, context.RequestAborted);
        var status = result.Status;
        if (status == 404 && cluster.Options.AccountAutocreate)
        {
            // As Swift does: a POST to an account that does not exist yet creates it, then sets the metadata.
            using var created = await cluster.AccountWriteAsync(HttpMethod.Put, account, Cluster.WithTimestamp(headers), context.RequestAborted);
            status = created.Status is >= 200 and < 300 ? 204 : created.Status;
        }
        await Relay.WriteStatusAsync(context, status);
    }

    private async Task ManageAsync(HttpContext context, string account, string method)
    {
        if (!options.AllowAccountManagement)
        {
            context.Response.Headers.Allow = "GET, HEAD, OPTIONS, POST";
            await Relay.StatusAsync(context, 405);
            return;
        }
        if (method == "PUT" && MetadataRules.Check(context.Request.Headers, "Account", options.Constraints) is { } problem)
        {
            await Relay.StatusAsync(context, 400, problem);
            return;
        }
        if (method == "DELETE" && context.Request.QueryString.HasValue)
        {
            // Swift refuses a DELETE with a query string so a mistyped listing request cannot delete an account.
            await Relay.StatusAsync(context, 400, "DELETE with query string is not allowed");
            return;
        }
        using var result = await cluster.AccountWriteAsync(new HttpMethod(method), account, AccountHeaders(context, owner: true), context.RequestAborted);
        await Relay.WriteStatusAsync(context, result.Status);
    }

    /// <summary>The headers for an account write; the ACL header is stored as core system metadata, owners only.</summary>
    private static List<KeyValuePair<string, string>> AccountHeaders(HttpContext context, bool owner)
    {
        var headers = Relay.BackendHeaders(context, name => !owner && Relay.IsOwnerHeader(name));
        Relay.TranslateRemovals(headers);
        var acl = headers.FindIndex(h => h.Key.Equals("X-Account-Access-Control", StringComparison.OrdinalIgnoreCase));
        if (acl >= 0)
        {
            // An ACL that grants nothing is no ACL, as Swift stores it: the account shows none afterwards.
            var value = headers[acl].Value;
            if (Auth.Acl.ParseAccountAcl(value, out var levels) is null && levels.Values.All(l => l.Count == 0)) value = "";
            headers.Add(new(AclSysmeta, value));
            headers.RemoveAt(acl);
        }
        return headers;
    }
}

/// <summary>Listing formats as Swift's listing_formats picks them: ?format= first, then the Accept header.</summary>
public static class ListingFormats
{
    /// <summary>"json", "xml" or "plain".</summary>
    public static string Choose(HttpRequest request)
    {
        var format = request.Query["format"].ToString().ToLowerInvariant();
        if (format is "json" or "xml" or "plain") return format;
        if (format.Length > 0) return "plain";
        var accept = request.Headers.Accept.ToString();
        if (accept.Contains("application/json", StringComparison.OrdinalIgnoreCase)) return "json";
        if (accept.Contains("application/xml", StringComparison.OrdinalIgnoreCase) || accept.Contains("text/xml", StringComparison.OrdinalIgnoreCase)) return "xml";
        return "plain";
    }

    /// <summary>The Content-Type Swift gives a listing.</summary>
    public static string ContentType(string format) => format switch
    {
        "json" => "application/json; charset=utf-8",
        "xml" => "application/xml; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };

    /// <summary>Parses a non-negative integer header value.</summary>
    public static bool TryParseCount(string value, out long count) => long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count);
}
