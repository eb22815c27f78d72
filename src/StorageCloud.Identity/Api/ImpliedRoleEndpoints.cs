using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using StorageCloud.Auth.Store;

namespace StorageCloud.Identity.Api;

// Role inference rules: /v3/roles/{prior}/implies[/{implied}] and /v3/role_inferences.
public sealed partial class IdentityApi
{
    // Keystone's [assignment] prohibited_implied_role default: nothing may imply admin.
    private static readonly string[] ProhibitedImpliedRoles = ["admin"];

    private void MapImpliedRoles()
    {
        Map("GET", "/v3/role_inferences", async r =>
        {
            await r.EnforceAsync("list_role_inference_rules");
            var rules = await Store.ListAsync<ImpliedRoleRow>();
            var roles = (await Store.ListAsync<RoleRow>()).ToDictionary(x => x.Id);
            var inferences = new JsonArray();
            foreach (var group in rules.GroupBy(x => x.PriorRoleId).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                if (!roles.TryGetValue(group.Key, out var prior)) continue;
                var implies = new JsonArray();
                foreach (var rule in group)
                    if (roles.TryGetValue(rule.ImpliedRoleId, out var implied)) implies.Add(RoleReference(implied, r.BaseUrl));
                inferences.Add(new JsonObject { ["prior_role"] = RoleReference(prior, r.BaseUrl), ["implies"] = implies });
            }
            await WriteAsync(r.Context, 200, new JsonObject { ["role_inferences"] = inferences, ["links"] = Views.Links($"{r.BaseUrl}/role_inferences") });
        });
        Map("GET", "/v3/roles/{prior}/implies", async r =>
        {
            await r.EnforceAsync("list_implied_roles");
            var prior = await Store.GetAsync<RoleRow>(r.Args[0]) ?? throw IdentityError.NotFound("role", r.Args[0]);
            var implied = await Store.QueryAsync<RoleRow>(
                "SELECT * FROM roles WHERE id IN (SELECT implied_role_id FROM implied_roles WHERE prior_role_id = @prior) ORDER BY id", new { prior = prior.Id });
            var implies = new JsonArray();
            foreach (var role in implied) implies.Add(RoleReference(role, r.BaseUrl));
            await WriteAsync(r.Context, 200, new JsonObject
            {
                ["role_inference"] = new JsonObject { ["prior_role"] = RoleReference(prior, r.BaseUrl), ["implies"] = implies },
                ["links"] = Views.Links($"{r.BaseUrl}/roles/{prior.Id}/implies"),
            });
        });
        Map("PUT", "/v3/roles/{prior}/implies/{implied}", async r =>
        {
            await r.EnforceAsync("create_implied_role");
            var (prior, implied) = await InferenceRolesAsync(r);
            if (ProhibitedImpliedRoles.Contains(implied.Name)) throw new IdentityError(403, $"{implied.Id} cannot be an implied roles.");
            if (prior.DomainId is null && implied.DomainId is not null) throw new IdentityError(403, "Global role cannot imply a domain-specific role.");
            if (!await Store.InsertAsync(new ImpliedRoleRow { PriorRoleId = prior.Id, ImpliedRoleId = implied.Id }))
                throw IdentityError.Conflict("implied_role", $"Duplicate entry found with prior role {prior.Id} and implied role {implied.Id}");
            await WriteAsync(r.Context, 201, InferenceDocument(prior, implied, r.BaseUrl));
        });
        Map("GET", "/v3/roles/{prior}/implies/{implied}", async r =>
        {
            // Keystone answers HEAD here with 204 rather than GET's headers.
            var head = HttpMethods.IsHead(r.Context.Request.Method);
            await r.EnforceAsync(head ? "check_implied_role" : "get_implied_role");
            var (prior, implied) = await InferenceRolesAsync(r);
            await RequireInferenceAsync(prior.Id, implied.Id);
            if (head) await NoContent(r.Context);
            else await WriteAsync(r.Context, 200, InferenceDocument(prior, implied, r.BaseUrl));
        });
        Map("DELETE", "/v3/roles/{prior}/implies/{implied}", async r =>
        {
            await r.EnforceAsync("delete_implied_role");
            var (prior, implied) = await InferenceRolesAsync(r);
            if (await Store.ExecuteAsync("DELETE FROM implied_roles WHERE prior_role_id = @prior AND implied_role_id = @implied",
                    new { prior = prior.Id, implied = implied.Id }) == 0)
                throw new IdentityError(404, $"{prior.Id} does not imply {implied.Id}.");
            await NoContent(r.Context);
        });
    }

    private async Task<(RoleRow Prior, RoleRow Implied)> InferenceRolesAsync(IdentityRequest r)
    {
        var prior = await Store.GetAsync<RoleRow>(r.Args[0]) ?? throw IdentityError.NotFound("role", r.Args[0]);
        var implied = await Store.GetAsync<RoleRow>(r.Args[1]) ?? throw IdentityError.NotFound("role", r.Args[1]);
        return (prior, implied);
    }

    private async Task RequireInferenceAsync(string prior, string implied)
    {
        var found = await Store.QueryAsync<string>(
            "SELECT implied_role_id FROM implied_roles WHERE prior_role_id = @prior AND implied_role_id = @implied", new { prior, implied });
        if (found.Count == 0) throw new IdentityError(404, $"{prior} does not imply {implied}.");
    }

    private static JsonObject InferenceDocument(RoleRow prior, RoleRow implied, string baseUrl) => new()
    {
        ["role_inference"] = new JsonObject { ["prior_role"] = RoleReference(prior, baseUrl), ["implies"] = RoleReference(implied, baseUrl) },
        ["links"] = Views.Links($"{baseUrl}/roles/{prior.Id}/implies/{implied.Id}"),
    };

    /// <summary>A role as inference documents name it: id, name and link.</summary>
    private static JsonObject RoleReference(RoleRow role, string baseUrl) => new()
    {
        ["id"] = role.Id, ["name"] = role.Name, ["links"] = Views.Links($"{baseUrl}/roles/{role.Id}"),
    };
}
