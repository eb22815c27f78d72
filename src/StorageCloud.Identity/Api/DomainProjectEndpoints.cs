using System.Text.Json.Nodes;
using StorageCloud.Auth.Policy;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// Keystone's domains are projects with is_domain set, and its project API reaches them too. Here domains have their own
// table, so the project routes hand an is_domain request, or an id that names a domain, to these.
public sealed partial class IdentityApi
{
    /// <summary>POST /v3/projects with is_domain: makes a domain, answered as the project acting as it.</summary>
    private async Task CreateDomainProjectAsync(IdentityRequest r, JsonObject given)
    {
        if (JsonBody.OptionalString(given, "domain_id", "project") is not null || JsonBody.OptionalString(given, "parent_id", "project") is not null)
            throw IdentityError.Invalid("A project acting as a domain has neither a domain_id nor a parent_id.");
        await r.EnforceAsync("create_domain");
        var row = new DomainRow { Id = NewId() };
        ApplyDomain(row, given, creating: true);
        if (!await Store.InsertAsync(row)) throw IdentityError.Conflict("project", $"Duplicate entry found with name {row.Name}");
        await WriteAsync(r.Context, 201, new JsonObject { ["project"] = DomainAsProject(row, r.BaseUrl) });
    }

    /// <summary>GET /v3/projects?is_domain=true: the domains, shown as projects.</summary>
    private async Task ListDomainProjectsAsync(IdentityRequest r)
    {
        var rows = await Store.ListAsync<DomainRow>(("name", r.Query("name")), ("enabled", EnabledFilter(r)));
        await WriteAsync(r.Context, 200, Views.List("projects", $"{r.BaseUrl}/projects", rows.Select(d => DomainAsProject(d, r.BaseUrl))));
    }

    /// <summary>GET /v3/projects/{id} for a domain's id.</summary>
    private async Task ShowDomainProjectAsync(IdentityRequest r)
    {
        var row = await Store.GetAsync<DomainRow>(r.Args[0]) ?? throw IdentityError.NotFound("project", r.Args[0]);
        await r.EnforceAsync("get_project", new PolicyTarget(ProjectId: row.Id, DomainId: row.Id));
        await WriteAsync(r.Context, 200, new JsonObject { ["project"] = DomainAsProject(row, r.BaseUrl) });
    }

    /// <summary>PATCH /v3/projects/{id} for a domain's id (the body's project object has been read).</summary>
    private async Task UpdateDomainProjectAsync(IdentityRequest r, JsonObject given)
    {
        var row = await Store.GetAsync<DomainRow>(r.Args[0]) ?? throw IdentityError.NotFound("project", r.Args[0]);
        if (given["is_domain"] is not null && JsonBody.OptionalBool(given, "is_domain", "project") != true)
            throw IdentityError.Invalid("Cannot change is_domain of a project.");
        ApplyDomain(row, given, creating: false);
        if (!await Store.UpdateAsync(row)) throw IdentityError.Conflict("project", $"Duplicate entry found with name {row.Name}");
        await WriteAsync(r.Context, 200, new JsonObject { ["project"] = DomainAsProject(row, r.BaseUrl) });
    }

    /// <summary>DELETE /v3/projects/{id} for a domain's id: the domain goes, as through /v3/domains (disabled first).</summary>
    private async Task DeleteDomainProjectAsync(IdentityRequest r)
    {
        var row = await Store.GetAsync<DomainRow>(r.Args[0]) ?? throw IdentityError.NotFound("project", r.Args[0]);
        await DeleteDomainAsync(row);
        await NoContent(r.Context);
    }

    /// <summary>The is_domain query filter: null when absent; "0" and "false" mean false, anything else true.</summary>
    private static bool? IsDomainFilter(IdentityRequest r) => r.Query("is_domain") switch
    {
        null => null,
        var v => v != "0" && !v.Equals("false", StringComparison.OrdinalIgnoreCase),
    };

    private static JsonObject DomainAsProject(DomainRow d, string baseUrl) => new()
    {
        ["id"] = d.Id, ["name"] = d.Name, ["domain_id"] = null, ["description"] = d.Description, ["enabled"] = d.Enabled != 0,
        ["parent_id"] = null, ["is_domain"] = true, ["tags"] = new JsonArray(), ["options"] = new JsonObject(),
        ["links"] = Views.Links($"{baseUrl}/projects/{d.Id}"),
    };
}
