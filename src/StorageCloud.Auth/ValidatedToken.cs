using StorageCloud.Auth.Store;
using StorageCloud.Auth.Tokens;

namespace StorageCloud.Auth;

/// <summary>A role as a token lists it.</summary>
public sealed record RoleRef(string Id, string Name);

/// <summary>
/// A token that passed validation, with what it stands for now: its user, its scope and the roles the user holds
/// there (implied roles included). Services decide access from this; nothing here is taken from the request.
/// A trust-scoped token names its trust; its user is the trustor when the trust impersonates, else the trustee,
/// and its roles are the trust's.
/// </summary>
public sealed record ValidatedToken(
    TokenPayload Payload,
    UserRow User,
    DomainRow UserDomain,
    ProjectRow? Project,
    DomainRow? ProjectDomain,
    DomainRow? Domain,
    IReadOnlyList<RoleRef> Roles,
    TrustRow? Trust = null)
{
    /// <summary>
    /// The user who authenticated: the trustee for a trust-scoped token even when it impersonates the trustor, so
    /// that managing trusts is never done in the trustor's name by someone holding only a delegation.
    /// </summary>
    public string AuthenticatedUserId => Payload.UserId;

    /// <summary>True when the token holds the role (by name, case-insensitively, as Keystone policy checks).</summary>
    public bool HasRole(string name)
    {
        foreach (var role in Roles)
            if (string.Equals(role.Name, name, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>True for a system-scoped token.</summary>
    public bool IsSystem => Payload.Scope == ScopeKind.System;

    /// <summary>True when the token holds the admin role in its scope.</summary>
    public bool IsAdmin => HasRole("admin");

    /// <summary>The user's id.</summary>
    public string UserId => User.Id;

    /// <summary>The project the token is scoped to, or null.</summary>
    public string? ProjectId => Project?.Id;
}
