using StorageCloud.Service.Api;

namespace StorageCloud.Auth.Policy;

/// <summary>Who a rule lets through; a rule is any combination.</summary>
[Flags]
public enum Allow
{
    /// <summary>Nobody.</summary>
    None = 0,
    /// <summary>A caller holding the admin role in its token's scope.</summary>
    Admin = 1,
    /// <summary>The user the target names (their own user, credentials, projects).</summary>
    Self = 2,
    /// <summary>A caller whose token is scoped to the target's project (any role there, reader included).</summary>
    ProjectReader = 4,
    /// <summary>A caller holding member (or admin) on the target's project.</summary>
    ProjectMember = 8,
    /// <summary>A caller whose token is scoped to the target's domain, or to a project in it.</summary>
    DomainReader = 16,
    /// <summary>Any valid token.</summary>
    Authenticated = 32,
}

/// <summary>What a request acts on, for the rules that compare it with the caller.</summary>
public readonly record struct PolicyTarget(string? UserId = null, string? ProjectId = null, string? DomainId = null);

/// <summary>
/// One API's policy: a readable table from action ("identity:list_projects") to who may do it, checked against the
/// caller's validated token. Services other than identity build their own table with the same rules.
/// </summary>
public sealed class PolicyTable(string service, IReadOnlyDictionary<string, Allow> rules)
{
    /// <summary>
    /// The rules the project-scoped OpenStack APIs share (Cinder's, Glance's, Nova's and Neutron's defaults):
    /// "admin" for admins only, "read" for the project's readers, "write" for its members; admins may do both.
    /// </summary>
    public static PolicyTable ProjectScoped(string service) => new(service, new Dictionary<string, Allow>
    {
        ["admin"] = Allow.Admin,
        ["read"] = Allow.Admin | Allow.ProjectReader,
        ["write"] = Allow.Admin | Allow.ProjectMember,
    });

    /// <summary>Throws 403 (or 401 with no caller) unless the caller may perform the action on the target.</summary>
    public void Enforce(string action, ValidatedToken? caller, PolicyTarget target = default)
    {
        if (caller is null) throw ApiError.Unauthorized();
        if (!Allows(action, caller, target)) throw ApiError.Forbidden($"{service}:{action}");
    }

    /// <summary>True when the caller may perform the action on the target.</summary>
    public bool Allows(string action, ValidatedToken caller, PolicyTarget target = default)
    {
        if (!rules.TryGetValue(action, out var allow)) throw new ArgumentException($"no policy rule for {service}:{action}");
        if (allow.HasFlag(Allow.Authenticated)) return true;
        if (allow.HasFlag(Allow.Admin) && caller.HasRole("admin")) return true;
        if (allow.HasFlag(Allow.Self) && target.UserId is not null && target.UserId == caller.UserId) return true;
        var project = caller.Project?.Id;
        if (allow.HasFlag(Allow.ProjectReader) && project is not null && project == target.ProjectId) return true;
        if (allow.HasFlag(Allow.ProjectMember) && project is not null && project == target.ProjectId && caller.HasRole("member")) return true;
        if (allow.HasFlag(Allow.DomainReader) && target.DomainId is not null
            && (caller.Domain?.Id == target.DomainId || caller.Project?.DomainId == target.DomainId)) return true;
        return false;
    }
}
