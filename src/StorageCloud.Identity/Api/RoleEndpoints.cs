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
            // Without a domain_id filter only global roles are listed, as in Keystone.
            var domainId = r.Query("domain_id");
            var rows = (await Store.ListAsync<RoleRow>(("name", r.Query("name")), ("domain_id", domainId))).Where(x => x.DomainId == domainId);
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
                DomainId = JsonBody.OptionalString(given, "domain_id", "role"),
            };
            if (row.DomainId is not null && await Store.GetAsync<DomainRow>(row.DomainId) is null) throw IdentityError.NotFound("domain", row.DomainId);
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
            await Store.ExecuteAsync("DELETE FROM implied_roles WHERE prior_role_id = @id OR implied_role_id = @id", new { id = r.Args[0] });
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

    private async Task<RoleRow?> CheckGrantPartiesAsync(string type, string target, string actor, string? role)
    {
        if (type.EndsWith("Project", StringComparison.Ordinal) && await Store.GetAsync<ProjectRow>(target) is null) throw IdentityError.NotFound("project", target);
        if (type.EndsWith("Domain", StringComparison.Ordinal) && await Store.GetAsync<DomainRow>(target) is null) throw IdentityError.NotFound("domain", target);
        if (type.StartsWith("User", StringComparison.Ordinal) && await Store.GetAsync<UserRow>(actor) is null) throw IdentityError.NotFound("user", actor);
        if (type.StartsWith("Group", StringComparison.Ordinal) && await Store.GetAsync<GroupRow>(actor) is null) throw IdentityError.NotFound("group", actor);
        if (role is null) return null;
        return await Store.GetAsync<RoleRow>(role) ?? throw IdentityError.NotFound("role", role);
    }

    private async Task ListGrantsAsync(IdentityRequest r, string type, string target, string actor, bool inherited = false)
    {
        await r.EnforceAsync("list_grants");
        await CheckGrantPartiesAsync(type, target, actor, null);
        var rows = await Store.QueryAsync<RoleRow>(
            "SELECT * FROM roles WHERE id IN (SELECT role_id FROM assignments WHERE type = @type AND actor_id = @actor AND target_id = @target AND inherited = @flag) ORDER BY id",
            new { type, actor, target, flag = inherited ? 1L : 0L });
        await WriteAsync(r.Context, 200, Views.List("roles", r.BaseUrl + r.Context.Request.Path.Value![3..], rows.Select(x => Views.Role(x, r.BaseUrl))));
    }

    private async Task GrantAsync(IdentityRequest r, string type, string target, string actor, string role, bool inherited = false)
    {
        await r.EnforceAsync("create_grant");
        var roleRow = await CheckGrantPartiesAsync(type, target, actor, role);
        // A domain-specific role can be granted only inside its own domain (Keystone's DomainSpecificRoleMismatch).
        if (roleRow?.DomainId is { } roleDomain)
        {
            var targetDomain = type.EndsWith("Domain", StringComparison.Ordinal) ? target
                : type.EndsWith("Project", StringComparison.Ordinal) ? (await Store.GetAsync<ProjectRow>(target))?.DomainId : null;
            if (targetDomain != roleDomain)
                throw new IdentityError(403, $"The target {target} must be in the same domain as the role {role} being assigned.");
        }
        await Store.ExecuteAsync(
            "INSERT INTO assignments (type, actor_id, target_id, role_id, inherited) VALUES (@type, @actor, @target, @role, @flag) ON CONFLICT DO NOTHING",
            new { type, actor, target, role, flag = inherited ? 1L : 0L });
        await NoContent(r.Context);
    }

    private async Task CheckGrantAsync(IdentityRequest r, string type, string target, string actor, string role, bool inherited = false)
    {
        await r.EnforceAsync("check_grant");
        await CheckGrantPartiesAsync(type, target, actor, role);
        var found = await Store.QueryAsync<string>(
            "SELECT role_id FROM assignments WHERE type = @type AND actor_id = @actor AND target_id = @target AND role_id = @role AND inherited = @flag",
            new { type, actor, target, role, flag = inherited ? 1L : 0L });
        if (found.Count == 0) throw new IdentityError(404, $"Could not find role assignment with role: {role}, actor: {actor}, target: {target}.");
        await NoContent(r.Context);
    }

    private async Task RevokeGrantAsync(IdentityRequest r, string type, string target, string actor, string role, bool inherited = false)
    {
        await r.EnforceAsync("revoke_grant");
        await CheckGrantPartiesAsync(type, target, actor, role);
        if (await Store.ExecuteAsync("DELETE FROM assignments WHERE type = @type AND actor_id = @actor AND target_id = @target AND role_id = @role AND inherited = @flag",
                new { type, actor, target, role, flag = inherited ? 1L : 0L }) == 0)
            throw new IdentityError(404, $"Could not find role assignment with role: {role}, actor: {actor}, target: {target}.");
        await NoContent(r.Context);
    }
}
