using System.Text.Json.Nodes;
using StorageCloud.Auth.Store;

namespace StorageCloud.Identity.Api;

// GET /v3/role_assignments: the grants as stored, or (?effective) what they amount to for each user: group grants
// as their members', OS-INHERIT grants on the projects they reach, implied roles beside the roles implying them, and
// domain-specific roles left out (they never reach a token themselves).
public sealed partial class IdentityApi
{
    /// <summary>
    /// One listed assignment. <see cref="InheritedFrom"/> is the grant's own target ("domains/x", "projects/x") when
    /// an inherited grant was expanded onto a project; <see cref="PriorRoleId"/> the role whose rule implied this one.
    /// </summary>
    private sealed record ListedAssignment(
        string Type, string ActorId, string TargetId, string RoleId, bool Inherited,
        string? ViaGroup = null, string? InheritedFrom = null, string? PriorRoleId = null)
    {
        public bool ActorIsUser => Type.StartsWith("User", StringComparison.Ordinal);

        public string TargetKind => Type[(ActorIsUser ? 4 : 5)..];

        public bool SameGrant(ListedAssignment other) =>
            Type == other.Type && ActorId == other.ActorId && TargetId == other.TargetId && RoleId == other.RoleId;
    }

    private async Task ListAssignmentsAsync(IdentityRequest r)
    {
        await r.EnforceAsync("list_role_assignments");
        var effective = r.Query("effective") is not null;
        var names = r.Query("include_names") is { } n && n is not ("0" or "false" or "False");
        var roles = (await Store.ListAsync<RoleRow>()).ToDictionary(x => x.Id);
        var stored = (await Store.ListAsync<AssignmentRow>())
            .Select(a => new ListedAssignment(a.Type, a.ActorId, a.TargetId, a.RoleId, a.Inherited != 0)).ToList();
        var listed = effective ? await EffectiveAssignmentsAsync(stored, roles) : stored;

        var list = new JsonArray();
        foreach (var a in listed)
        {
            if (r.Query("user.id") is { } userFilter && (!a.ActorIsUser || a.ActorId != userFilter)) continue;
            if (r.Query("group.id") is { } groupFilter && (a.ActorIsUser || a.ActorId != groupFilter)) continue;
            if (r.Query("role.id") is { } roleFilter && a.RoleId != roleFilter) continue;
            if (r.Query("scope.project.id") is { } projectFilter && (a.TargetKind != "Project" || a.TargetId != projectFilter)) continue;
            if (r.Query("scope.domain.id") is { } domainFilter && (a.TargetKind != "Domain" || a.TargetId != domainFilter)) continue;
            if (r.Query("scope.system") is not null && a.TargetKind != "System") continue;
            if (r.Query("scope.OS-INHERIT:inherited_to") is not null && !a.Inherited) continue;
            list.Add(await AssignmentViewAsync(r, a, roles.GetValueOrDefault(a.RoleId), names));
        }
        await WriteAsync(r.Context, 200, new JsonObject
        {
            ["role_assignments"] = list,
            ["links"] = new JsonObject { ["self"] = $"{r.BaseUrl}/role_assignments", ["previous"] = null, ["next"] = null },
        });
    }

    private async Task<List<ListedAssignment>> EffectiveAssignmentsAsync(List<ListedAssignment> stored, Dictionary<string, RoleRow> roles)
    {
        var members = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var byUser = new List<ListedAssignment>();
        foreach (var a in stored)
        {
            if (a.ActorIsUser)
            {
                byUser.Add(a);
                continue;
            }
            if (!members.TryGetValue(a.ActorId, out var users))
                members[a.ActorId] = users = await Store.QueryAsync<string>("SELECT user_id FROM group_members WHERE group_id = @g", new { g = a.ActorId });
            foreach (var user in users)
                byUser.Add(a with { Type = "User" + a.TargetKind, ActorId = user, ViaGroup = a.ActorId });
        }

        // Inherited grants count on the projects below their target, never on the target itself.
        var projects = await Store.ListAsync<ProjectRow>();
        var onTargets = new List<ListedAssignment>();
        foreach (var a in byUser)
        {
            if (!a.Inherited)
            {
                onTargets.Add(a);
                continue;
            }
            var reached = a.TargetKind == "Domain"
                ? projects.Where(p => p.DomainId == a.TargetId).Select(p => p.Id)
                : Descendants(projects, a.TargetId);
            var from = (a.TargetKind == "Domain" ? "domains/" : "projects/") + a.TargetId;
            foreach (var project in reached)
                onTargets.Add(a with { Type = "UserProject", TargetId = project, InheritedFrom = from });
        }

        var rules = (await Store.ListAsync<ImpliedRoleRow>()).ToLookup(x => x.PriorRoleId);
        for (var i = 0; i < onTargets.Count; i++)
        {
            var a = onTargets[i];
            foreach (var rule in rules[a.RoleId])
            {
                var implied = a with { RoleId = rule.ImpliedRoleId, PriorRoleId = a.RoleId };
                // The check also stops inference cycles: a role already listed for the same grant is not added again.
                if (!onTargets.Any(e => e.SameGrant(implied))) onTargets.Add(implied);
            }
        }
        return onTargets.Where(a => roles.TryGetValue(a.RoleId, out var role) && role.DomainId is null).ToList();
    }

    /// <summary>Every project below the given one (children, their children...), each once.</summary>
    private static List<string> Descendants(List<ProjectRow> projects, string rootId)
    {
        var found = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { rootId };
        var pending = new Queue<string>();
        pending.Enqueue(rootId);
        while (pending.TryDequeue(out var parent))
        {
            foreach (var child in projects)
            {
                if (child.ParentId != parent || !seen.Add(child.Id)) continue;
                found.Add(child.Id);
                pending.Enqueue(child.Id);
            }
        }
        return found;
    }

    private async Task<JsonObject> AssignmentViewAsync(IdentityRequest r, ListedAssignment a, RoleRow? role, bool names)
    {
        var roleJson = new JsonObject { ["id"] = a.RoleId };
        if (names && role is not null) roleJson["name"] = role.Name;
        var actorJson = new JsonObject { ["id"] = a.ActorId };
        if (names)
        {
            string? name = null, domainId = null;
            if (a.ActorIsUser && await Store.GetAsync<UserRow>(a.ActorId) is { } user) (name, domainId) = (user.Name, user.DomainId);
            if (!a.ActorIsUser && await Store.GetAsync<GroupRow>(a.ActorId) is { } group) (name, domainId) = (group.Name, group.DomainId);
            actorJson["name"] = name;
            if (domainId is not null) actorJson["domain"] = await DomainRefAsync(domainId);
        }
        JsonObject scope;
        string targetPath;
        switch (a.TargetKind)
        {
            case "Project":
                var project = new JsonObject { ["id"] = a.TargetId };
                if (names && await Store.GetAsync<ProjectRow>(a.TargetId) is { } p)
                {
                    project["name"] = p.Name;
                    project["domain"] = await DomainRefAsync(p.DomainId);
                }
                scope = new JsonObject { ["project"] = project };
                targetPath = $"projects/{a.TargetId}";
                break;
            case "Domain":
                scope = new JsonObject { ["domain"] = names ? await DomainRefAsync(a.TargetId) : new JsonObject { ["id"] = a.TargetId } };
                targetPath = $"domains/{a.TargetId}";
                break;
            default:
                scope = new JsonObject { ["system"] = new JsonObject { ["all"] = true } };
                targetPath = "system";
                break;
        }
        // The assignment link names the grant that exists: the inherited grant's own target, the group, the prior role.
        var actorPath = a.ViaGroup is not null ? $"groups/{a.ViaGroup}" : $"{(a.ActorIsUser ? "users" : "groups")}/{a.ActorId}";
        var grantPath = $"{a.InheritedFrom ?? targetPath}/{actorPath}/roles/{a.PriorRoleId ?? a.RoleId}";
        if (a.Inherited)
        {
            scope["OS-INHERIT:inherited_to"] = "projects";
            grantPath = $"OS-INHERIT/{grantPath}/inherited_to_projects";
        }
        var links = new JsonObject { ["assignment"] = $"{r.BaseUrl}/{grantPath}" };
        if (a.ViaGroup is not null) links["membership"] = $"{r.BaseUrl}/groups/{a.ViaGroup}/users/{a.ActorId}";
        if (a.PriorRoleId is not null) links["prior_role"] = $"{r.BaseUrl}/roles/{a.PriorRoleId}/implies/{a.RoleId}";
        return new JsonObject
        {
            ["role"] = roleJson,
            [a.ActorIsUser ? "user" : "group"] = actorJson,
            ["scope"] = scope,
            ["links"] = links,
        };
    }

    private async Task<JsonObject> DomainRefAsync(string domainId)
    {
        var domain = await Store.GetAsync<DomainRow>(domainId);
        return new JsonObject { ["id"] = domainId, ["name"] = domain?.Name };
    }
}
