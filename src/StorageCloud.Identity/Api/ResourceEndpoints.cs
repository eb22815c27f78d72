using System.Text.Json.Nodes;
using StorageCloud.Auth.Policy;
using StorageCloud.Identity.Policy;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/domains and /v3/projects.
public sealed partial class IdentityApi
{
    private void MapResources()
    {
        Map("GET", "/v3/domains", async r =>
        {
            await r.EnforceAsync("list_domains");
            var rows = await Store.ListAsync<DomainRow>(("name", r.Query("name")), ("enabled", EnabledFilter(r)));
            await WriteAsync(r.Context, 200, Views.List("domains", $"{r.BaseUrl}/domains", rows.Select(d => Views.Domain(d, r.BaseUrl))));
        });
        Map("POST", "/v3/domains", async r =>
        {
            await r.EnforceAsync("create_domain");
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "domain", "request body");
            var row = new DomainRow { Id = JsonBody.OptionalString(given, "explicit_domain_id", "domain") ?? NewId() };
            ApplyDomain(row, given, creating: true);
            if (!await Store.InsertAsync(row)) throw IdentityError.Conflict("domain", $"Duplicate entry found with name {row.Name}");
            await WriteAsync(r.Context, 201, new JsonObject { ["domain"] = Views.Domain(row, r.BaseUrl) });
        });
        Map("GET", "/v3/domains/{id}", async r =>
        {
            var row = await Store.GetAsync<DomainRow>(r.Args[0]) ?? throw IdentityError.NotFound("domain", r.Args[0]);
            await r.EnforceAsync("get_domain", new PolicyTarget(DomainId: row.Id));
            await WriteAsync(r.Context, 200, new JsonObject { ["domain"] = Views.Domain(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/domains/{id}", async r =>
        {
            await r.EnforceAsync("update_domain");
            var row = await Store.GetAsync<DomainRow>(r.Args[0]) ?? throw IdentityError.NotFound("domain", r.Args[0]);
            ApplyDomain(row, JsonBody.Object(await JsonBody.ReadAsync(r.Context), "domain", "request body"), creating: false);
            if (!await Store.UpdateAsync(row)) throw IdentityError.Conflict("domain", $"Duplicate entry found with name {row.Name}");
            await WriteAsync(r.Context, 200, new JsonObject { ["domain"] = Views.Domain(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/domains/{id}", async r =>
        {
            await r.EnforceAsync("delete_domain");
            var row = await Store.GetAsync<DomainRow>(r.Args[0]) ?? throw IdentityError.NotFound("domain", r.Args[0]);
            await DeleteDomainAsync(row);
            await NoContent(r.Context);
        });

        Map("GET", "/v3/projects", async r =>
        {
            await r.EnforceAsync("list_projects");
            if (IsDomainFilter(r) == true)
            {
                await ListDomainProjectsAsync(r);
                return;
            }
            var rows = await Store.ListAsync<ProjectRow>(("name", r.Query("name")), ("domain_id", r.Query("domain_id")),
                ("parent_id", r.Query("parent_id")), ("enabled", EnabledFilter(r)));
            await WriteAsync(r.Context, 200, Views.List("projects", $"{r.BaseUrl}/projects", rows.Select(p => Views.Project(p, r.BaseUrl))));
        });
        Map("POST", "/v3/projects", async r =>
        {
            await r.EnforceAsync("create_project");
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "project", "request body");
            if (JsonBody.OptionalBool(given, "is_domain", "project") == true)
            {
                await CreateDomainProjectAsync(r, given);
                return;
            }
            var row = new ProjectRow { Id = NewId() };
            row.DomainId = JsonBody.OptionalString(given, "domain_id", "project") ?? (await r.CallerAsync()).Project?.DomainId ?? "default";
            if (await Store.GetAsync<DomainRow>(row.DomainId) is null) throw IdentityError.NotFound("domain", row.DomainId);
            row.ParentId = JsonBody.OptionalString(given, "parent_id", "project");
            if (row.ParentId == row.DomainId) row.ParentId = null;
            if (row.ParentId is not null)
            {
                var parent = await Store.GetAsync<ProjectRow>(row.ParentId) ?? throw IdentityError.Invalid($"Could not find parent project: {row.ParentId}.");
                if (parent.DomainId != row.DomainId) throw new IdentityError(403, "Cannot create project, the parent is in a different domain.");
            }
            ApplyProject(row, given, creating: true);
            if (!await Store.InsertAsync(row)) throw IdentityError.Conflict("project", $"Duplicate entry found with name {row.Name} at domain ID {row.DomainId}");
            await WriteAsync(r.Context, 201, new JsonObject { ["project"] = Views.Project(row, r.BaseUrl) });
        });
        Map("GET", "/v3/projects/{id}", async r =>
        {
            if (await Store.GetAsync<ProjectRow>(r.Args[0]) is not { } row)
            {
                await ShowDomainProjectAsync(r);
                return;
            }
            await r.EnforceAsync("get_project", new PolicyTarget(ProjectId: row.Id));
            await WriteAsync(r.Context, 200, new JsonObject { ["project"] = Views.Project(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/projects/{id}", async r =>
        {
            await r.EnforceAsync("update_project");
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "project", "request body");
            if (await Store.GetAsync<ProjectRow>(r.Args[0]) is not { } row)
            {
                await UpdateDomainProjectAsync(r, given);
                return;
            }
            var wasEnabled = row.Enabled != 0;
            ApplyProject(row, given, creating: false);
            if (!await Store.UpdateAsync(row)) throw IdentityError.Conflict("project", $"Duplicate entry found with name {row.Name} at domain ID {row.DomainId}");
            if (wasEnabled && row.Enabled == 0) await Tokens.RevokeProjectAsync(row.Id);
            await WriteAsync(r.Context, 200, new JsonObject { ["project"] = Views.Project(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/projects/{id}", async r =>
        {
            await r.EnforceAsync("delete_project");
            if (await Store.GetAsync<ProjectRow>(r.Args[0]) is not { } row)
            {
                await DeleteDomainProjectAsync(r);
                return;
            }
            if ((await Store.ListAsync<ProjectRow>(("parent_id", row.Id))).Count > 0)
                throw new IdentityError(403, $"Cannot delete the project {row.Id} since it is not a leaf in the hierarchy.");
            await DeleteProjectRowsAsync(row.Id);
            await Tokens.RevokeProjectAsync(row.Id);
            await NoContent(r.Context);
        });
        Map("GET", "/v3/users/{id}/projects", async r =>
        {
            await r.EnforceAsync("list_user_projects", new PolicyTarget(UserId: r.Args[0]));
            if (await Store.GetAsync<UserRow>(r.Args[0]) is null) throw IdentityError.NotFound("user", r.Args[0]);
            var rows = await Store.QueryAsync<ProjectRow>(
                """
                SELECT * FROM projects WHERE id IN (SELECT target_id FROM assignments WHERE
                  (type = 'UserProject' AND actor_id = @user) OR (type = 'GroupProject' AND actor_id IN (SELECT group_id FROM group_members WHERE user_id = @user)))
                ORDER BY id
                """, new { user = r.Args[0] });
            await WriteAsync(r.Context, 200, Views.List("projects", $"{r.BaseUrl}/users/{r.Args[0]}/projects", rows.Select(p => Views.Project(p, r.BaseUrl))));
        });
    }

    private static void ApplyDomain(DomainRow row, JsonObject given, bool creating)
    {
        if (JsonBody.OptionalString(given, "name", "domain") is { } name) row.Name = ResourceName(name);
        else if (creating) throw IdentityError.Invalid("Expecting to find name in domain.");
        if (JsonBody.OptionalString(given, "description", "domain") is { } description) row.Description = description;
        if (JsonBody.OptionalBool(given, "enabled", "domain") is { } enabled) row.Enabled = enabled ? 1 : 0;
    }

    private static void ApplyProject(ProjectRow row, JsonObject given, bool creating)
    {
        if (JsonBody.OptionalString(given, "name", "project") is { } name) row.Name = ResourceName(name);
        else if (creating) throw IdentityError.Invalid("Expecting to find name in project.");
        if (!creating && given["domain_id"] is not null && JsonBody.OptionalString(given, "domain_id", "project") != row.DomainId)
            throw IdentityError.Invalid("Cannot change the domain_id of a project.");
        if (JsonBody.OptionalString(given, "description", "project") is { } description) row.Description = description;
        if (JsonBody.OptionalBool(given, "enabled", "project") is { } enabled) row.Enabled = enabled ? 1 : 0;
        if (ProjectTagsJson(given) is { } tags) row.Tags = tags;
    }

    /// <summary>The enabled query filter as Keystone reads it: "0" and "false" mean disabled, anything else enabled.</summary>
    private static long? EnabledFilter(IdentityRequest r) => r.Query("enabled") switch
    {
        null => null,
        var v when v == "0" || v.Equals("false", StringComparison.OrdinalIgnoreCase) => 0,
        _ => 1,
    };

    /// <summary>Deletes a disabled domain with everything in it (403 while it is enabled).</summary>
    private async Task DeleteDomainAsync(DomainRow row)
    {
        if (row.Enabled != 0) throw new IdentityError(403, "Cannot delete a domain that is enabled, please disable it first.");
        foreach (var project in await Store.ListAsync<ProjectRow>(("domain_id", row.Id))) await DeleteProjectRowsAsync(project.Id);
        foreach (var user in await Store.ListAsync<UserRow>(("domain_id", row.Id))) await DeleteUserRowsAsync(user.Id);
        foreach (var group in await Store.ListAsync<GroupRow>(("domain_id", row.Id))) await DeleteGroupRowsAsync(group.Id);
        await Store.ExecuteAsync("DELETE FROM assignments WHERE target_id = @id AND type IN ('UserDomain', 'GroupDomain')", new { id = row.Id });
        await Store.DeleteAsync<DomainConfigRow>(row.Id);
        await Store.DeleteAsync<DomainRow>(row.Id);
    }

    private async Task DeleteProjectRowsAsync(string projectId)
    {
        await Store.ExecuteAsync("DELETE FROM assignments WHERE target_id = @id AND type IN ('UserProject', 'GroupProject')", new { id = projectId });
        await Store.ExecuteAsync("DELETE FROM credentials WHERE project_id = @id", new { id = projectId });
        await Store.ExecuteAsync("DELETE FROM application_credentials WHERE project_id = @id", new { id = projectId });
        await Store.DeleteAsync<ProjectRow>(projectId);
    }
}
