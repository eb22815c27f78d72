namespace StorageCloud.Auth.Store;

// Rows for delegation: role inference rules and trusts. Token validation reads both, so they live beside the other
// identity rows rather than in the identity service.

/// <summary>A role inference rule: holding the prior role grants the implied role too (Keystone's implied roles).</summary>
public sealed class ImpliedRoleRow
{
    public string PriorRoleId { get; set; } = "";
    public string ImpliedRoleId { get; set; } = "";
}

/// <summary>An inference rule joined with the implied role's name and domain, as token validation expands it.</summary>
public sealed class RoleInference
{
    public string PriorRoleId { get; set; } = "";
    public string ImpliedRoleId { get; set; } = "";
    public string ImpliedName { get; set; } = "";
    public string? ImpliedDomainId { get; set; }
}

/// <summary>
/// A trust (OS-TRUST): the trustor lets the trustee act with some of the trustor's roles on one project, as the
/// trustor (impersonation) or as itself. Deleting the row ends every token scoped by it, since validation reads it.
/// </summary>
public sealed class TrustRow
{
    public string Id { get; set; } = "";
    public string TrustorUserId { get; set; } = "";
    public string TrusteeUserId { get; set; } = "";
    public string? ProjectId { get; set; }
    public long Impersonation { get; set; }
    /// <summary>Microseconds since the epoch (Keystone keeps sub-second expiry), or null for no expiry.</summary>
    public long? ExpiresAt { get; set; }
    /// <summary>Tokens still to be issued through the trust, or null for no limit.</summary>
    public long? RemainingUses { get; set; }
    /// <summary>JSON array of the delegated role ids.</summary>
    public string Roles { get; set; } = "[]";
    public long CreatedAt { get; set; }

    /// <summary>True once the expiry has passed.</summary>
    public bool HasExpired(DateTimeOffset now) => ExpiresAt is { } at && at <= now.ToUnixTimeMilliseconds() * 1000;

    /// <summary>The delegated role ids.</summary>
    public IReadOnlyList<string> RoleIds() => System.Text.Json.JsonSerializer.Deserialize<string[]>(Roles) ?? [];
}
