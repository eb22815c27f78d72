namespace StorageCloud.Identity.Api;

// OS-INHERIT: grants on a domain or project that apply to the projects below it (every project of the domain, or
// the project's subtree) rather than to the target itself. They are rows of the same assignments table with the
// inherited flag, checked by the same policy rules as plain grants, as in Keystone.
public sealed partial class IdentityApi
{
    private void MapInheritedGrants()
    {
        foreach (var (targets, targetKind) in new[] { ("domains", "Domain"), ("projects", "Project") })
        {
            foreach (var (actors, actorKind) in new[] { ("users", "User"), ("groups", "Group") })
            {
                var type = actorKind + targetKind;
                var prefix = $"/v3/OS-INHERIT/{targets}/{{t}}/{actors}/{{a}}/roles";
                Map("GET", $"{prefix}/inherited_to_projects", r => ListGrantsAsync(r, type, r.Args[0], r.Args[1], inherited: true));
                Map("PUT", $"{prefix}/{{r}}/inherited_to_projects", r => GrantAsync(r, type, r.Args[0], r.Args[1], r.Args[2], inherited: true));
                Map("GET", $"{prefix}/{{r}}/inherited_to_projects", r => CheckGrantAsync(r, type, r.Args[0], r.Args[1], r.Args[2], inherited: true));
                Map("DELETE", $"{prefix}/{{r}}/inherited_to_projects", r => RevokeGrantAsync(r, type, r.Args[0], r.Args[1], r.Args[2], inherited: true));
            }
        }
    }
}
