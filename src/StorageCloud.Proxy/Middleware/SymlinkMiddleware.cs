using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using StorageCloud.ObjectLayer;
using StorageCloud.Proxy.Auth;
using StorageCloud.Proxy.Controllers;

namespace StorageCloud.Proxy.Middleware;

/// <summary>
/// Swift's symlinks: a zero-byte PUT with X-Symlink-Target (and -Account, and -Etag for a static link) makes an
/// object that GET and HEAD follow, as the caller, up to <see cref="SymloopMax"/> links deep; ?symlink=get returns the
/// link itself; a POST to a link answers 307 with the target's location. Listings show where links point
/// (symlink_path, and symlink_etag/symlink_bytes for static links) from parameters the PUT adds to the row's hash.
/// </summary>
public sealed partial class SymlinkMiddleware(Cluster cluster, SwiftAuthorizer authorizer, IServiceProvider services) : IMiddleware, IObjectReadFilter
{
    /// <summary>Most links one read follows (symloop_max).</summary>
    public const int SymloopMax = 2;

    /// <summary>The sysmeta a link keeps its target in (quoted "container/object"); other features recognize links by it.</summary>
    public const string TargetSysmeta = "X-Object-Sysmeta-Symlink-Target";

    private const string Target = TargetSysmeta;
    private const string TargetAccount = "X-Object-Sysmeta-Symlink-Target-Account";
    private const string TargetEtag = "X-Object-Sysmeta-Symlink-Target-Etag";
    private const string TargetBytes = "X-Object-Sysmeta-Symlink-Target-Bytes";
    private const string ListingEtag = "X-Object-Sysmeta-Container-Update-Override-Etag";
    private const string SloEtag = "X-Object-Sysmeta-Slo-Etag";
    private const string SloSize = "X-Object-Sysmeta-Slo-Size";
    private const string EmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";
    private const string FormError = "X-Symlink-Target header must be of the form <container name>/<object name>";

    /// <inheritdoc />
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = SwiftPath.Of(context);
        var request = context.Request;
        if (path.Object is null || !path.ValidUtf8)
        {
            await next(context);
            return;
        }
        if (HttpMethods.IsPut(request.Method) && request.Headers.ContainsKey("X-Symlink-Target"))
        {
            if (await PrepareLinkAsync(context, path) is { } problem)
            {
                if (problem.Location is not null) context.Response.Headers.ContentLocation = problem.Location;
                await Relay.StatusAsync(context, problem.Status, problem.Text);
                return;
            }
        }
        else if (HttpMethods.IsPost(request.Method))
        {
            if (request.Headers.ContainsKey("X-Symlink-Target"))
            {
                await Relay.StatusAsync(context, 400, "A PUT request is required to set a symlink target");
                return;
            }
            using var head = await cluster.ObjectReadAsync(HttpMethod.Head, path.Account!, path.Container!, path.Object, [], cancellationToken: context.RequestAborted);
            if (head.IsSuccess && head.Header(Target) is { } target)
            {
                // The POST still lands on the link (as in Swift); the client is told where the target is. A POST's
                // answer is a few bytes, so it is held back until its status is known.
                var body = context.Response.Body;
                using var held = new MemoryStream();
                context.Response.Body = held;
                try
                {
                    await next(context);
                }
                finally
                {
                    context.Response.Body = body;
                }
                if (context.Response.StatusCode == 202)
                {
                    context.Response.Headers.Location = $"/v1/{head.Header(TargetAccount) ?? SwiftPath.QuoteKeepSlash(path.Account!)}/{target}";
                    // Even a static link whose target changed redirects; its ETag says which version it was made for.
                    if (head.Header(TargetEtag) is { } etag) context.Response.Headers["X-Symlink-Target-Etag"] = etag;
                    await Relay.StatusAsync(context, 307, "The requested POST was applied to a symlink. POST directly to the target to apply requested metadata.");
                    return;
                }
                held.Position = 0;
                await held.CopyToAsync(body, context.RequestAborted);
                return;
            }
        }
        await next(context);
    }

    private sealed record Problem(int Status, string? Text, string? Location = null);

    /// <summary>
    /// Checks the link's headers and moves them to sysmeta. A static link's target must exist with that ETag (static
    /// links on the way are followed, a dynamic one is the object checked); the link then records the target's size
    /// and, without a Content-Type of its own, the target's.
    /// </summary>
    private async Task<Problem?> PrepareLinkAsync(HttpContext context, SwiftPath path)
    {
        var request = context.Request;
        if (request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0))
            return new Problem(400, "Symlink requests require a zero byte body");
        var raw = Uri.UnescapeDataString(request.Headers["X-Symlink-Target"].ToString());
        var slash = raw.IndexOf('/');
        if (raw.StartsWith('/') || slash <= 0 || slash == raw.Length - 1) return new Problem(412, FormError);
        var (container, obj) = (raw[..slash], raw[(slash + 1)..]);
        var account = path.Account!;
        string? quotedAccount = null;
        if (request.Headers["X-Symlink-Target-Account"].ToString() is { Length: > 0 } given)
        {
            account = Uri.UnescapeDataString(given);
            if (account.Contains('/')) return new Problem(412, "Account name cannot contain slashes");
            quotedAccount = SwiftPath.QuoteKeepSlash(account);
            request.Headers[TargetAccount] = quotedAccount;
        }
        if ((account, container, obj) == (path.Account, path.Container, path.Object)) return new Problem(400, "Symlink cannot target itself");
        var quotedTarget = SwiftPath.QuoteKeepSlash($"{container}/{obj}");
        request.Headers[Target] = quotedTarget;
        var etag = request.Headers["X-Symlink-Target-Etag"].ToString().Trim('"');
        if (etag.IndexOfAny([';', '"', '\\']) >= 0) return new Problem(400, "Bad X-Symlink-Target-Etag format");
        string? bytes = null;
        // A listing etag some middleware before this one chose stays the base the link's parameters are added to.
        var chosen = request.Headers[ListingEtag].ToString();
        var listingBase = chosen.Length > 0 ? chosen : EmptyMd5;
        if (etag.Length > 0)
        {
            using var found = await FollowAsync(context, account, quotedTarget, HttpMethod.Head, [], etag, hops: 0, followDynamic: false);
            if (found.Response is not { } final) return new Problem(found.Status, found.Text, found.Location);
            if (final.Status == 404) return new Problem(409, "X-Symlink-Target does not exist", found.Location);
            if (!final.IsSuccess) return new Problem(final.Status == 0 ? 503 : final.Status, null);
            request.Headers[TargetEtag] = etag;
            bytes = final.Header(SloSize) ?? final.ContentLength?.ToString(CultureInfo.InvariantCulture) ?? final.Header("Content-Length") ?? "0";
            request.Headers[TargetBytes] = bytes;
            // What the target's row says besides its own link (a large object's slo_etag) shows on the link's row too.
            if (chosen.Length == 0)
            {
                if (final.Header(ListingEtag) is { } targetListing) listingBase = EmptyMd5 + OtherParams(targetListing);
                else if (final.Header(SloEtag) is { } sloEtag) listingBase = $"{EmptyMd5}; slo_etag={sloEtag}";
            }
            if (request.Headers.ContentType.Count == 0 && final.Header("Content-Type") is { Length: > 0 } type) request.Headers.ContentType = type;
        }
        request.Headers[ListingEtag] = ListingValue(listingBase, quotedTarget, quotedAccount, etag.Length > 0 ? etag : null, bytes);
        request.Headers.Remove("X-Symlink-Target");
        request.Headers.Remove("X-Symlink-Target-Account");
        request.Headers.Remove("X-Symlink-Target-Etag");
        if (request.Headers.ContentType.Count == 0 && etag.Length == 0) request.Headers.ContentType = "application/symlink";
        return null;
    }

    /// <summary>
    /// A copy of a link itself (?symlink=get) keeps pointing where the source pointed, unless the request names another
    /// account with X-Symlink-Target-Account, as a link PUT may: the copy's sysmeta and listing row then say so.
    /// Returns Swift's 412 text for an account name with a slash, or null.
    /// </summary>
    public static string? RetargetCopiedLink(IHeaderDictionary request, List<KeyValuePair<string, string>> headers)
    {
        if (request["X-Symlink-Target-Account"].ToString() is not { Length: > 0 } given) return null;
        var account = Uri.UnescapeDataString(given);
        if (account.Contains('/')) return "Account name cannot contain slashes";
        string? target = null, etag = null, bytes = null, listing = null;
        foreach (var (name, value) in headers)
        {
            if (name.Equals(Target, StringComparison.OrdinalIgnoreCase)) target = value;
            else if (name.Equals(TargetEtag, StringComparison.OrdinalIgnoreCase)) etag = value;
            else if (name.Equals(TargetBytes, StringComparison.OrdinalIgnoreCase)) bytes = value;
            else if (name.Equals(ListingEtag, StringComparison.OrdinalIgnoreCase)) listing = value;
        }
        if (target is null) return null;
        var quotedAccount = SwiftPath.QuoteKeepSlash(account);
        headers.RemoveAll(h => h.Key.Equals(TargetAccount, StringComparison.OrdinalIgnoreCase) || h.Key.Equals(ListingEtag, StringComparison.OrdinalIgnoreCase)
                               || h.Key.Equals("X-Symlink-Target-Account", StringComparison.OrdinalIgnoreCase));
        headers.Add(new(TargetAccount, quotedAccount));
        var listingBase = listing is null ? EmptyMd5 : EmptyMd5 + OtherParams(listing);
        headers.Add(new(ListingEtag, ListingValue(listingBase, target, quotedAccount, etag, etag is null ? null : bytes ?? "0")));
        return null;
    }

    /// <summary>The container-update etag of a link: its base, then where it points, as the listing reads them back.</summary>
    private static string ListingValue(string listingBase, string quotedTarget, string? quotedAccount, string? etag, string? bytes)
    {
        var sb = new StringBuilder(listingBase).Append("; symlink_target=").Append(quotedTarget);
        if (quotedAccount is not null) sb.Append("; symlink_target_account=").Append(quotedAccount);
        if (etag is not null) sb.Append("; symlink_target_etag=").Append(etag).Append("; symlink_target_bytes=").Append(bytes ?? "0");
        return sb.ToString();
    }

    /// <summary>The "; key=value" parameters of a container-update etag other than a link's own (which the new link replaces).</summary>
    private static string OtherParams(string value)
    {
        var parts = value.Split(';');
        var sb = new StringBuilder();
        for (var i = 1; i < parts.Length; i++)
        {
            var part = parts[i].Trim();
            if (part.Length == 0 || part.StartsWith("symlink_target", StringComparison.OrdinalIgnoreCase)) continue;
            sb.Append("; ").Append(part);
        }
        return sb.ToString();
    }

    /// <summary>Reads an object as the caller (its container's read ACL applies); a refusal comes back as its status.</summary>
    private async Task<BackendResponse> ReadAsCallerAsync(HttpContext context, HttpMethod method, string account, string container, string obj, List<KeyValuePair<string, string>> headers)
    {
        var denial = await authorizer.AuthorizeReadAsync(context, account, container, obj);
        if (denial is not null) return BackendResponse.Synthetic(denial.Status);
        return await cluster.ObjectReadAsync(method, account, container, obj, headers, cancellationToken: context.RequestAborted);
    }

    private IObjectReadFilter[]? _filters;

    /// <summary>The enabled read filters (this one among them unless symlinks are turned off), resolved once.</summary>
    private IObjectReadFilter[] Filters => _filters ??= services.GetServices<IObjectReadFilter>().ToArray();

    /// <summary>
    /// The symlink feature when it is enabled, for features that meet links while reading for the caller (a large
    /// object's segments): Swift reads those through its symlink middleware.
    /// </summary>
    public static SymlinkMiddleware? Enabled(HttpContext context)
    {
        if (context.RequestServices?.GetService<SymlinkMiddleware>() is not { } links) return null;
        return Array.IndexOf(links.Filters, links) >= 0 ? links : null;
    }
}
