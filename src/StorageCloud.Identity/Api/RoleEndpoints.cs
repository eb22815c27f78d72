using System.Text.Json.Nodes;
using StorageCloud.Auth.Store;
using StorageCloud.Auth;
using StorageCloud.Identity.Tokens;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/roles, grants on projects, domains and the system, and /v3/role_assignments.
public sealed partial class IdentityApi
{
    private void MapRoles()
    {
        Map("GET", "/v3/roles", async r =>
        {
            await r.EnforceAsync("list_roles");
            var rows = await Store.ListAsync<RoleRow>(("name", r.Query("name")));
            await WriteAsync(r.Context, 200, Views.List("roles", $"{r.BaseUrl}/roles", rows.Select(x => Views.Role(x, r.BaseUrl))));
        });
        Map("POST", "/v3/roles", async r =>
        {
            await r.EnforceAsync("create_role");
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "role", "request body");
            var row = new RoleRow
            {
                Id = NewId(), Name = JsonBody.Name(JsonBody.String(given, "name", "role"), "name"),
                Description = JsonBody.OptionalString(given, "description", "role") ?? "",
            };
            if (!await Store.InsertAsync(row)) throw IdentityError.Conflict("role", $"Duplicate entry found with name {row.Name}");
            await WriteAsync(r.Context, 201, new JsonObject { ["role"] = Views.Role(row, r.BaseUrl) });
        });
        Map("GET", "/v3/roles/{id}", async r =>
        {
            await r.EnforceAsync("get_role");
            var row = await Store.GetAsync<RoleRow>(r.Args[0]) ?? throw IdentityError.NotFound("role", r.Args[0]);
            await WriteAsync(r.Context, 200, new JsonObject { ["role"] = Views.Role(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/roles/{id}", async r =>
        {
            await r.EnforceAsync("update_role");
            var row = await Store.GetAsync<RoleRow>(r.Args[0]) ?? throw IdentityError.NotFound("role", r.Args[0]);
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "role", "request body");
            if (JsonBody.OptionalString(given, "name", "role") is { } name) row.Name = JsonBody.Name(name, "name");
            if (JsonBody.OptionalString(given, "description", "role") is { } description) row.Description = description;
            if (!await Store.UpdateAsync(row)) throw IdentityError.Conflict("role", $"Duplicate entry found with name {row.Name}");
            await WriteAsync(r.Context, 200, new JsonObject { ["role"] = Views.Role(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/roles/{id}", async r =>
        {
            await r.EnforceAsync("delete_role");
            if (await Store.GetAsync<RoleRow>(r.Args[0]) is null) throw IdentityError.NotFound("role", r.Args[0]);
            await Store.ExecuteAsync("DELETE FROM assignments WHERE role_id = @id", new { id = r.Args[0] });
            await Store.DeleteAsync<RoleRow>(r.Args[0]);
            await NoContent(r.Context);
        });

        foreach (var (targets, targetKind) in new[] { ("projects", "Project"), ("domains", "Domain") })
        {
            foreach (var (actors, actorKind) in new[] { ("users", "User"), ("groups", "Group") })
            {
                var type = actorKind + targetKind;
                Map("GET", $"/v3/{targets}/{{t}}/{actors}/{{a}}/roles", r => ListGrantsAsync(r, type, r.Args[0], r.Args[1]));
                Map("PUT", $"/v3/{targets}/{{t}}/{actors}/{{a}}/roles/{{r}}", r => GrantAsync(r, type, r.Args[0], r.Args[1], r.Args[2]));
                Map("GET", $"/v3/{targets}/{{t}}/{actors}/{{a}}/roles/{{r}}", r => CheckGrantAsync(r, type, r.Args[0], r.Args[1], r.Args[2]));
                Map("DELETE", $"/v3/{targets}/{{t}}/{actors}/{{a}}/roles/{{r}}", r => RevokeGrantAsync(r, type, r.Args[0], r.Args[1], r.Args[2]));
            }
        }
        foreach (var (actors, actorKind) in new[] { ("users", "User"), ("groups", "Group") })
        {
            var type = actorKind + "System";
            Map("GET", $"/v3/system/{actors}/{{a}}/roles", r => ListGrantsAsync(r, type, "all", r.Args[0]));
            Map("PUT", $"/v3/system/{actors}/{{a}}/roles/{{r}}", r => GrantAsync(r, type, "all", r.Args[0], r.Args[1]));
            Map("GET", $"/v3/system/{actors}/{{a}}/roles/{{r}}", r => CheckGrantAsync(r, type, "all", r.Args[0], r.Args[1]));
            Map("DELETE", $"/v3/system/{actors}/{{a}}/roles/{{r}}", r => RevokeGrantAsync(r, type, "all", r.Args[0], r.Args[1]));
        }
        Map("GET", "/v3/role_assignments", ListAssignmentsAsync);
    }

    private async Task CheckGrantPartiesAsync(string type, string target, string actor, string? role)
    {
        if (type.EndsWith("Project", StringComparison.Ordinal) && await Store.GetAsync<ProjectRow>(target) is null) throw IdentityError.NotFound("project", target);
        if (type.EndsWith("Domain", StringComparison.Ordinal) && await Store.GetAsync<DomainRow>(target) is null) throw IdentityError.NotFound("domain", target);
        if (type.StartsWith("User", StringComparison.Ordinal) && await Store.GetAsync<UserRow>(actor) is null) throw IdentityError.NotFound("user", actor);
        if (type.StartsWith("Group", StringComparison.Ordinal) && await Store.GetAsync<GroupRow>(actor) is null) throw IdentityError.NotFound("group", actor);
        if (role is not null && await Store.GetAsync<RoleRow>(role) is null) throw IdentityError.NotFound("role", role);
    }

    private async Task ListGrantsAsync(IdentityRequest r, string type, string target, string actor)
    {
        await r.EnforceAsync("list_grants");
        await CheckGrantPartiesAsync(type, target, actor, null);
        var rows = await Store.QueryAsync<RoleRow>(
            "SELECT * FROM roles WHERE id IN (SELECT role_id FROM assignments WHERE type = @type AND actor_id = @actor AND target_id = @target) ORDER BY id",
            new { type, actor, target });
        await WriteAsync(r.Context, 200, Views.List("roles", r.BaseUrl + r.Context.Request.Path.Value![3..], rows.Select(x => Views.Role(x, r.BaseUrl))));
    }

    private async Task GrantAsync(IdentityRequest r, string type, string target, string actor, string role)
    {
        await r.EnforceAsync("create_grant");
        await CheckGrantPartiesAsync(type, target, actor, role);
        await Store.ExecuteAsync("INSERT INTO assignments (type, actor_id, target_id, role_id) VALUES (@type, @actor, @target, @role) ON CONFLICT DO NOTHING",
            new { type, actor, target, role });
        await NoContent(r.Context);
    }

    private async Task CheckGrantAsync(IdentityRequest r, string type, string target, string actor, string role)
    {
        await r.EnforceAsync("check_grant");
        await CheckGrantPartiesAsync(type, target, actor, role);
        var found = await Store.QueryAsync<string>("SELECT role_id FROM assignments WHERE type = @type AND actor_id = @actor AND target_id = @target AND role_id = @role",
            new { type, actor, target, role });
        if (found.Count == 0) throw new IdentityError(404, $"Could not find role assignment with role: {role}, actor: {actor}, target: {target}.");
        await NoContent(r.Context);
    }

    private async Task RevokeGrantAsync(IdentityRequest r, string type, string target, string actor, string role)
    {
        await r.EnforceAsync("revoke_grant");
        await CheckGrantPartiesAsync(type, target, actor, role);
        if (await Store.ExecuteAsync("DELETE FROM assignments WHERE type = @type AND actor_id = @actor AND target_id = @target AND role_id = @role",
                new { type, actor, target, role }) == 0)
            throw new IdentityError(404, $"Could not find role assignment with role: {role}, actor: {actor}, target: {target}.");
        await NoContent(r.Context);
    }

    /// <summary>GET /v3/role_assignments with Keystone's filters, effective expansion (groups and implied roles) and names.</summary>
    private async Task ListAssignmentsAsync(IdentityRequest r)
    {
        await r.EnforceAsync("list_role_assignments");
        var effective = r.Query("effective") is not null;
        var names = r.Query("include_names") is { } n && n is not ("0" or "false" or "False");
        var all = await Store.ListAsync<AssignmentRow>();
        var expanded = new List<(AssignmentRow Row, string? ViaGroup)>();
        foreach (var a in all)
        {
            if (effective && a.Type.StartsWith("Group", StringComparison.Ordinal))
            {
                var members = await Store.QueryAsync<string>("SELECT user_id FROM group_members WHERE group_id = @g", new { g = a.ActorId });
                foreach (var user in members)
                    expanded.Add((new AssignmentRow { Type = "User" + a.Type["Group".Length..], ActorId = user, TargetId = a.TargetId, RoleId = a.RoleId }, a.ActorId));
            }
            else expanded.Add((a, null));
        }
        var roles = (await Store.ListAsync<RoleRow>()).ToDictionary(x => x.Id);
        if (effective)
        {
            // Implied roles show as assignments of their own, as Keystone's effective listing does.
            var byName = roles.Values.ToDictionary(x => x.Name);
            for (var i = 0; i < expanded.Count; i++)
            {
                var (row, via) = expanded[i];
                if (!roles.TryGetValue(row.RoleId, out var role)) continue;
                foreach (var (prior, implied) in TokenValidator.ImpliedRoles)
                {
                    if (role.Name != prior || !byName.TryGetValue(implied, out var impliedRole)) continue;
                    if (expanded.Any(e => e.Row.Type == row.Type && e.Row.ActorId == row.ActorId && e.Row.TargetId == row.TargetId && e.Row.RoleId == impliedRole.Id)) continue;
                    expanded.Add((new AssignmentRow { Type = row.Type, ActorId = row.ActorId, TargetId = row.TargetId, RoleId = impliedRole.Id }, via));
                }
            }
        }
        var list = new JsonArray();
        foreach (var (row, via) in expanded)
        {
            var actorIsUser = row.Type.StartsWith("User", StringComparison.Ordinal);
            var targetKind = row.Type[(actorIsUser ? 4 : 5)..];
            if (r.Query("user.id") is { } userFilter && (!actorIsUser || row.ActorId != userFilter)) continue;
            if (r.Query("group.id") is { } groupFilter && (actorIsUser || row.ActorId != groupFilter)) continue;
            if (r.Query("role.id") is { } roleFilter && row.RoleId != roleFilter) continue;
            if (r.Query("scope.project.id") is { } projectFilter && (targetKind != "Project" || row.TargetId != projectFilter)) continue;
            if (r.Query("scope.domain.id") is { } domainFilter && (targetKind != "Domain" || row.TargetId != domainFilter)) continue;
            if (r.Query("scope.system") is not null && targetKind != "System") continue;
            list.Add(await AssignmentViewAsync(r, row, actorIsUser, targetKind, roles.GetValueOrDefault(row.RoleId), names, via));
        }
        await WriteAsync(r.Context, 200, new JsonObject
        {
            ["role_assignments"] = list,
            ["links"] = new JsonObject { ["self"] = $"{r.BaseUrl}/role_assignments", ["previous"] = null, ["next"] = null },
        });
    }

    private async Task<JsonObject> AssignmentViewAsync(IdentityRequest r, AssignmentRow row, bool actorIsUser, string targetKind, RoleRow? role, bool names, string? viaGroup)
    {
        var roleJson = new JsonObject { ["id"] = row.RoleId };
        if (names && role is not null) roleJson["name"] = role.Name;
        var actorJson = new JsonObject { ["id"] = row.ActorId };
        if (names)
        {
            string? name = null, domainId = null;
            if (actorIsUser && await Store.GetAsync<UserRow>(row.ActorId) is { } user) (name, domainId) = (user.Name, user.DomainId);
            if (!actorIsUser && await Store.GetAsync<GroupRow>(row.ActorId) is { } group) (name, domainId) = (group.Name, group.DomainId);
            actorJson["name"] = name;
            if (domainId is not null) actorJson["domain"] = await DomainRefAsync(domainId);
        }
        JsonObject scope;
        string targetPath;
        switch (targetKind)
        {
            case "Project":
                var project = new JsonObject { ["id"] = row.TargetId };
                if (names && await Store.GetAsync<ProjectRow>(row.TargetId) is { } p)
                {
                    project["name"] = p.Name;
                    project["domain"] = await DomainRefAsync(p.DomainId);
                }
                scope = new JsonObject { ["project"] = project };
                targetPath = $"projects/{row.TargetId}";
                break;
            case "Domain":
                scope = new JsonObject { ["domain"] = names ? await DomainRefAsync(row.TargetId) : new JsonObject { ["id"] = row.TargetId } };
                targetPath = $"domains/{row.TargetId}";
                break;
            default:
                scope = new JsonObject { ["system"] = new JsonObject { ["all"] = true } };
                targetPath = "system";
                break;
        }
        var actorPath = viaGroup is not null ? $"groups/{viaGroup}" : $"{(actorIsUser ? "users" : "groups")}/{row.ActorId}";
        var links = new JsonObject { ["assignment"] = $"{r.BaseUrl}/{targetPath}/{actorPath}/roles/{row.RoleId}" };
        if (viaGroup is not null) links["membership"] = $"{r.BaseUrl}/groups/{viaGroup}/users/{row.ActorId}";
        return new JsonObject
        {
            ["role"] = roleJson,
            [actorIsUser ? "user" : "group"] = actorJson,
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
