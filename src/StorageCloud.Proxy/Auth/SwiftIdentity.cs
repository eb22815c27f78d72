using Microsoft.AspNetCore.Http;

namespace StorageCloud.Proxy.Auth;

/// <summary>
/// Who a request is, as Swift's authorization sees it: the user's name and groups ("account", "account:user", the
/// reseller-prefixed account it administers, ".reseller_admin"...). Null identity means anonymous.
/// </summary>
public sealed record SwiftIdentity(string User, IReadOnlySet<string> Groups)
{
    /// <summary>True for a reseller admin, who may act on every account.</summary>
    public bool IsResellerAdmin => Groups.Contains(".reseller_admin");
}

/// <summary>One way of authenticating requests (tempauth now, Keystone tokens later), plugged into the auth middleware.</summary>
public interface ISwiftAuthProvider
{
    /// <summary>Answers the provider's own endpoints (such as GET /auth/v1.0); false when the request is not one.</summary>
    Task<bool> TryHandleAsync(HttpContext context);

    /// <summary>The identity a token stands for, or null when the token is not this provider's or not valid.</summary>
    ValueTask<SwiftIdentity?> ResolveTokenAsync(string token, CancellationToken cancellationToken);
}

/// <summary>The auth state of one request, kept in the context by the auth middleware.</summary>
public sealed class SwiftAuthState
{
    private const string ItemKey = "storagecloud.swift_auth";

    /// <summary>The caller, or null when anonymous (or the token was not valid).</summary>
    public SwiftIdentity? Identity { get; set; }

    /// <summary>True when the caller owns the account (sees and sets ACLs, keys and sysmeta-backed settings).</summary>
    public bool Owner { get; set; }

    /// <summary>True when the request carried a token of ours that is not (or no longer) valid: always 401.</summary>
    public bool InvalidToken { get; set; }

    /// <summary>True when a middleware (temp URL) has already authorized the request.</summary>
    public bool Overridden { get; set; }

    /// <summary>What an override covers: an account, and a container unless the whole account.</summary>
    public (string Account, string? Container) OverrideScope { get; set; }

    /// <summary>Gives a sub-request the caller's identity (and nothing decided about the parent request).</summary>
    public static void CopyIdentity(HttpContext parent, HttpContext child)
    {
        var from = Of(parent);
        child.Items[ItemKey] = new SwiftAuthState { Identity = from.Identity, InvalidToken = from.InvalidToken };
    }

    /// <summary>The request's state, created on first use.</summary>
    public static SwiftAuthState Of(HttpContext context)
    {
        if (context.Items[ItemKey] is SwiftAuthState state) return state;
        state = new SwiftAuthState();
        context.Items[ItemKey] = state;
        return state;
    }
}
