using StorageCloud.Auth.Policy;

namespace StorageCloud.Identity.Policy;

/// <summary>The identity API's rules (Keystone's defaults, reduced to admin, the caller's own scope and the caller itself).</summary>
public static class IdentityPolicy
{
    /// <summary>
    /// Actions a trust-scoped token may not take whatever roles the trust carries: credentials (EC2 keys, application
    /// credentials, secrets) would let the trustee keep acting as the trustor after the trust is deleted or expires,
    /// and a password change or a new trust would be acting beyond what was delegated.
    /// </summary>
    public static readonly IReadOnlySet<string> RefusedToTrustTokens = new HashSet<string>(StringComparer.Ordinal)
    {
        "get_credential", "list_credentials", "create_credential", "update_credential", "delete_credential",
        "ec2_get_credential", "ec2_list_credentials", "ec2_create_credential", "ec2_delete_credential",
        "get_application_credential", "list_application_credentials", "create_application_credential", "delete_application_credential",
        "change_password", "create_trust",
    };

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
        ["list_implied_roles"] = Allow.Admin,
        ["get_implied_role"] = Allow.Admin,
        ["check_implied_role"] = Allow.Admin,
        ["create_implied_role"] = Allow.Admin,
        ["delete_implied_role"] = Allow.Admin,
        ["list_role_inference_rules"] = Allow.Admin,
        // Trusts: listing every trust is for admins; the other trust actions compare the caller with the trustor and
        // trustee in the trust endpoints, since a trust names two users.
        ["list_trusts"] = Allow.Admin,

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

        ["list_project_tags"] = Allow.Admin | Allow.ProjectReader,
        ["get_project_tag"] = Allow.Admin | Allow.ProjectReader,
        ["update_project_tags"] = Allow.Admin,
        ["create_project_tag"] = Allow.Admin,
        ["delete_project_tags"] = Allow.Admin,
        ["delete_project_tag"] = Allow.Admin,
        ["get_consumer"] = Allow.Admin,
        ["list_consumers"] = Allow.Admin,
        ["create_consumer"] = Allow.Admin,
        ["update_consumer"] = Allow.Admin,
        ["delete_consumer"] = Allow.Admin,
        ["get_policy"] = Allow.Admin,
        ["list_policies"] = Allow.Admin,
        ["create_policy"] = Allow.Admin,
        ["update_policy"] = Allow.Admin,
        ["delete_policy"] = Allow.Admin,
        ["get_endpoint_group"] = Allow.Admin,
        ["list_endpoint_groups"] = Allow.Admin,
        ["create_endpoint_group"] = Allow.Admin,
        ["update_endpoint_group"] = Allow.Admin,
        ["delete_endpoint_group"] = Allow.Admin,
        ["list_endpoints_associated_with_endpoint_group"] = Allow.Admin,
        ["get_domain_config"] = Allow.Admin,
        ["get_domain_config_default"] = Allow.Admin,
        ["create_domain_config"] = Allow.Admin,
        ["update_domain_config"] = Allow.Admin,
        ["delete_domain_config"] = Allow.Admin,

        ["validate_token"] = Allow.Authenticated,
        ["revoke_token"] = Allow.Authenticated,
    });
}
