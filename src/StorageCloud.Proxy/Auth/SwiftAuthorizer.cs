using Microsoft.AspNetCore.Http;
using StorageCloud.ObjectLayer;

namespace StorageCloud.Proxy.Auth;

/// <summary>A refused request: the status (400, 401 or 403) and, for 400, Swift's text.</summary>
public sealed record Denial(int Status, string? Body = null);

/// <summary>
/// Swift's authorization (tempauth's authorize), applied by the controllers once they know the ACL that governs the
/// request: reseller admins and account owners pass; others pass by container ACL (referrers, .rlistings, groups)
/// or by the account's ACL (admin, read-write, read-only); everyone else gets 403, or 401 when anonymous.
/// </summary>
public sealed class SwiftAuthorizer(ProxyOptions options, Cluster cluster)
{
    /// <summary>Headers only an account's owner may see or set (Swift's swift_owner_headers).</summary>
    public static readonly string[] OwnerHeaders =
    [
        "X-Container-Read", "X-Container-Write", "X-Container-Sync-Key", "X-Container-Sync-To",
        "X-Account-Meta-Temp-Url-Key", "X-Account-Meta-Temp-Url-Key-2",
        "X-Container-Meta-Temp-Url-Key", "X-Container-Meta-Temp-Url-Key-2", "X-Account-Access-Control",
    ];

    /// <summary>Null when the request may go on; otherwise why not. Sets the owner flag as a side effect.</summary>
    /// <param name="context">The request.</param>
    /// <param name="path">Its Swift path.</param>
    /// <param name="acl">The container ACL that governs it (read ACL for GET/HEAD, write ACL for writes), if any.</param>
    /// <param name="asMethod">The method to authorize, when not the request's own (a copy's source is read).</param>
    public async ValueTask<Denial?> AuthorizeAsync(HttpContext context, SwiftPath path, string? acl, string? asMethod = null)
    {
        var state = SwiftAuthState.Of(context);
        if (state.Overridden)
        {
            // A temp URL covers its own account, or its own container: nothing else (a copy's source elsewhere is refused).
            var (scopeAccount, scopeContainer) = state.OverrideScope;
            return scopeAccount == path.Account && (scopeContainer is null || scopeContainer == path.Container) ? null : new Denial(401);
        }
        var account = path.Account!;
        if (state.InvalidToken) return Denied(state);
        if (!account.StartsWith(options.ResellerPrefix, StringComparison.Ordinal) || account.Length == options.ResellerPrefix.Length)
            return Denied(state);
        if (context.Request.Headers["X-Account-Access-Control"].ToString() is { Length: > 0 } aclData
            && Acl.ParseAccountAcl(aclData, out _) is { } error)
            return new Denial(400, $"X-Account-Access-Control invalid: {error}\n\nInput: {aclData}\n");

        var groups = state.Identity?.Groups ?? (IReadOnlySet<string>)new HashSet<string>();
        var method = asMethod ?? context.Request.Method;
        if (state.Identity?.IsResellerAdmin == true)
        {
            state.Owner = true;
            return null;
        }
        if (groups.Contains(account) && (method is not ("DELETE" or "PUT") || path.Container is not null))
        {
            state.Owner = true;
            return null;
        }
        if (method == "OPTIONS") return null;
        // Identity readers may look at their project's account and everything in it, and change nothing.
        if (method is "GET" or "HEAD" && groups.Contains(KeystoneAuth.ReaderGroup(account))) return null;

        var (referrers, aclGroups) = Acl.ParseContainerAcl(acl);
        if (Acl.ReferrerAllowed(context.Request.Headers.Referer.ToString(), referrers) && (path.Object is not null || aclGroups.Contains(".rlistings")))
            return null;
        foreach (var g in aclGroups)
            if (groups.Contains(g)) return null;

        if (state.Identity is not null)
        {
            var info = await cluster.GetAccountInfoAsync(account, cancellationToken: context.RequestAborted);
            if (info.AccessControl is { Length: > 0 } stored && Acl.ParseAccountAcl(stored, out var levels) is null)
            {
                if (Intersects(groups, levels["admin"]))
                {
                    state.Owner = true;
                    return null;
                }
                var read = method is "GET" or "HEAD";
                if (Intersects(groups, levels["read-write"]) && (path.Container is not null || read)) return null;
                if (Intersects(groups, levels["read-only"]) && read) return null;
            }
        }
        return Denied(state);
    }

    /// <summary>
    /// Whether the caller may read another object (or, with no object, list another container) on the way to
    /// answering its own request: a copy's source, a large object's segments, a symlink's target. Decided by that
    /// container's read ACL; the caller's owner flag for its own request is left as it was.
    /// </summary>
    public async ValueTask<Denial?> AuthorizeReadAsync(HttpContext context, string account, string container, string? obj, string method = "GET")
    {
        var info = await cluster.GetContainerInfoAsync(account, container, cancellationToken: context.RequestAborted);
        var state = SwiftAuthState.Of(context);
        var wasOwner = state.Owner;
        try
        {
            return await AuthorizeAsync(context, new SwiftPath("v1", account, container, obj, true), info.ReadAcl, method);
        }
        finally
        {
            state.Owner = wasOwner;
        }
    }

    private static bool Intersects(IReadOnlySet<string> groups, List<string> names)
    {
        foreach (var n in names)
            if (groups.Contains(n)) return true;
        return false;
    }

    private static Denial Denied(SwiftAuthState state) => new(state.Identity is null ? 401 : 403);
}
