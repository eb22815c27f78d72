using Microsoft.AspNetCore.Http;
using StorageCloud.Auth;
using StorageCloud.Auth.Tokens;

namespace StorageCloud.Proxy.Auth;

/// <summary>
/// Identity (Keystone) tokens in the proxy, with keystoneauth's semantics: the token is validated locally with the
/// shared keys, must be project-scoped, and its account is AUTH_&lt;project_id&gt;. Operator roles own that account,
/// reader roles may only read it, the reseller admin role acts on every account, and ACLs name
/// &lt;project_id&gt;:&lt;user_id&gt; (or * for either side; names too, for the default domain).
/// </summary>
public sealed class KeystoneAuth(TokenValidator tokens, AuthOptions identity, ProxyOptions options) : ISwiftAuthProvider
{
    /// <summary>Keystone's default domain, where names are unambiguous.</summary>
    private const string DefaultDomainId = "default";

    /// <summary>The group that grants read-only use of an account (given to reader-role holders).</summary>
    public static string ReaderGroup(string account) => ".reader:" + account;

    /// <inheritdoc />
    public Task<bool> TryHandleAsync(HttpContext context) => Task.FromResult(false);

    /// <inheritdoc />
    public async ValueTask<SwiftIdentity?> ResolveTokenAsync(string token, CancellationToken cancellationToken)
    {
        if (token.Length > TokenCodec.MaxTokenLength) return null;
        var validated = await tokens.ValidateAsync(token);
        return validated is null ? null : IdentityOf(validated, identity, options.ResellerPrefix);
    }

    /// <summary>The Swift identity of a validated identity token (shared with the S3 front end's EC2 credentials).</summary>
    public static SwiftIdentity? IdentityOf(ValidatedToken token, AuthOptions identity, string resellerPrefix)
    {
        if (token.Project is null) return null;
        return IdentityOf(token.User.Id, token.User.Name, token.User.DomainId, token.Project.Id, token.Project.Name, token.Project.DomainId,
            token.Roles.Select(r => r.Name).ToList(), identity, resellerPrefix);
    }

    /// <summary>The Swift identity of a user acting on a project with the given roles.</summary>
    public static SwiftIdentity IdentityOf(string userId, string userName, string userDomain, string projectId, string projectName, string projectDomain,
        IReadOnlyList<string> roles, AuthOptions identity, string resellerPrefix)
    {
        var groups = new HashSet<string>(StringComparer.Ordinal)
        {
            $"{projectId}:{userId}", $"{projectId}:*", $"*:{userId}", "*:*",
        };
        // keystoneauth matches names only where they are unambiguous: user and project in the default domain.
        if (userDomain == DefaultDomainId && projectDomain == DefaultDomainId)
        {
            groups.Add($"{projectName}:{userName}");
            groups.Add($"{projectName}:*");
            groups.Add($"*:{userName}");
        }
        var account = resellerPrefix + projectId;
        if (HasAny(roles, identity.OperatorRoles)) groups.Add(account);
        else if (HasAny(roles, identity.ReaderRoles)) groups.Add(ReaderGroup(account));
        if (HasAny(roles, [identity.ResellerAdminRole])) groups.Add(".reseller_admin");
        return new SwiftIdentity($"{projectName}:{userName}", groups);
    }

    private static bool HasAny(IReadOnlyList<string> held, IReadOnlyList<string> wanted)
    {
        foreach (var role in held)
            foreach (var w in wanted)
                if (string.Equals(role, w, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}
