using StorageCloud.Auth.Policy;

namespace StorageCloud.Identity.Policy;

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
