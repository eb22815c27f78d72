using StorageCloud.Identity.Tokens;

namespace StorageCloud.Identity.Policy;

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
    /// <summary>Throws 403 (or 401 with no caller) unless the caller may perform the action on the target.</summary>
    public void Enforce(string action, ValidatedToken? caller, PolicyTarget target = default)
    {
        if (caller is null) throw IdentityError.Unauthorized();
        if (!Allows(action, caller, target)) throw IdentityError.Forbidden($"{service}:{action}");
    }

    /// <summary>True when the caller may perform the action on the target.</summary>
    public bool Allows(string action, ValidatedToken caller, PolicyTarget target = default)
    {
        if (!rules.TryGetValue(action, out var allow)) throw new ArgumentException($"no policy rule for {service}:{action}");
        if (allow.HasFlag(Allow.Authenticated)) return true;
        if (allow.HasFlag(Allow.Admin) && caller.HasRole("admin")) return true;
        if (allow.HasFlag(Allow.Self) && target.UserId is not null && target.UserId == caller.User.Id) return true;
        var project = caller.Project?.Id;
        if (allow.HasFlag(Allow.ProjectReader) && project is not null && project == target.ProjectId) return true;
        if (allow.HasFlag(Allow.ProjectMember) && project is not null && project == target.ProjectId && caller.HasRole("member")) return true;
        if (allow.HasFlag(Allow.DomainReader) && target.DomainId is not null
            && (caller.Domain?.Id == target.DomainId || caller.Project?.DomainId == target.DomainId)) return true;
        return false;
    }
}

/// <summary>The identity API's rules (Keystone's defaults, reduced to admin, the caller's own scope and the caller itself).</summary>
public static class IdentityPolicy
{
    /// <summary>The table.</summary>
    public static readonly PolicyTable Table = new("identity", new Dictionary<string, Allow>
    {
        ["get_domain"] = Allow.Admin | Allow.DomainReader,
        ["list_domains"] = Allow.Admin,
        ["create_domain"] = Allow.Admin,
        ["update_domain"] = Allow.Admin,
        ["delete_domain"] = Allow.Admin,

        ["get_project"] = Allow.Admin | Allow.ProjectReader,
        ["list_projects"] = Allow.Admin,
        ["list_user_projects"] = Allow.Admin | Allow.Self,
        ["create_project"] = Allow.Admin,
        ["update_project"] = Allow.Admin,
        ["delete_project"] = Allow.Admin,

        ["get_user"] = Allow.Admin | Allow.Self,
        ["list_users"] = Allow.Admin,
        ["create_user"] = Allow.Admin,
        ["update_user"] = Allow.Admin,
        ["delete_user"] = Allow.Admin,
        ["change_password"] = Allow.Self,

        ["get_group"] = Allow.Admin,
        ["list_groups"] = Allow.Admin,
        ["list_groups_for_user"] = Allow.Admin | Allow.Self,
        ["create_group"] = Allow.Admin,
        ["update_group"] = Allow.Admin,
        ["delete_group"] = Allow.Admin,
        ["list_users_in_group"] = Allow.Admin,
        ["add_user_to_group"] = Allow.Admin,
        ["remove_user_from_group"] = Allow.Admin,
        ["check_user_in_group"] = Allow.Admin,

        ["get_role"] = Allow.Admin,
        ["list_roles"] = Allow.Admin,
        ["create_role"] = Allow.Admin,
        ["update_role"] = Allow.Admin,
        ["delete_role"] = Allow.Admin,
        ["list_grants"] = Allow.Admin,
        ["check_grant"] = Allow.Admin,
        ["create_grant"] = Allow.Admin,
        ["revoke_grant"] = Allow.Admin,
        ["list_role_assignments"] = Allow.Admin,

        ["get_region"] = Allow.Authenticated,
        ["list_regions"] = Allow.Authenticated,
        ["create_region"] = Allow.Admin,
        ["update_region"] = Allow.Admin,
        ["delete_region"] = Allow.Admin,
        ["get_service"] = Allow.Admin,
        ["list_services"] = Allow.Admin,
        ["create_service"] = Allow.Admin,
        ["update_service"] = Allow.Admin,
        ["delete_service"] = Allow.Admin,
        ["get_endpoint"] = Allow.Admin,
        ["list_endpoints"] = Allow.Admin,
        ["create_endpoint"] = Allow.Admin,
        ["update_endpoint"] = Allow.Admin,
        ["delete_endpoint"] = Allow.Admin,

        ["get_credential"] = Allow.Admin | Allow.Self,
        ["list_credentials"] = Allow.Admin | Allow.Self,
        ["create_credential"] = Allow.Admin | Allow.Self,
        ["update_credential"] = Allow.Admin | Allow.Self,
        ["delete_credential"] = Allow.Admin | Allow.Self,
        ["ec2_get_credential"] = Allow.Admin | Allow.Self,
        ["ec2_list_credentials"] = Allow.Admin | Allow.Self,
        ["ec2_create_credential"] = Allow.Admin | Allow.Self,
        ["ec2_delete_credential"] = Allow.Admin | Allow.Self,
        ["get_application_credential"] = Allow.Admin | Allow.Self,
        ["list_application_credentials"] = Allow.Admin | Allow.Self,
        ["create_application_credential"] = Allow.Self,
        ["delete_application_credential"] = Allow.Admin | Allow.Self,

        ["validate_token"] = Allow.Authenticated,
        ["revoke_token"] = Allow.Authenticated,
    });
}
