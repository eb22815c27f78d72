using System.Text.Json.Nodes;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/policies: opaque policy documents kept for other services (Keystone's deprecated but still served API).
public sealed partial class IdentityApi
{
    private static readonly string[] PolicyFields = ["type", "blob"];

    private void MapPolicies()
    {
        Map("GET", "/v3/policies", async r =>
        {
            await r.EnforceAsync("list_policies");
            var rows = await Store.ListAsync<PolicyRow>(("type", r.Query("type")));
            await WriteAsync(r.Context, 200, Views.List("policies", $"{r.BaseUrl}/policies", rows.Select(p => ExtensionViews.Policy(p, r.BaseUrl))));
        });
        Map("POST", "/v3/policies", async r =>
        {
            await r.EnforceAsync("create_policy");
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "policy", "request body");
            var row = new PolicyRow
            {
                Id = NewId(),
                Type = PolicyType(JsonBody.String(given, "type", "policy")),
                Blob = JsonBody.String(given, "blob", "policy"),
                Extra = Views.Compact(ExtensionViews.Extra(given, new JsonObject(), PolicyFields)),
            };
            await Store.InsertAsync(row);
            await WriteAsync(r.Context, 201, new JsonObject { ["policy"] = ExtensionViews.Policy(row, r.BaseUrl) });
        });
        Map("GET", "/v3/policies/{id}", async r =>
        {
            await r.EnforceAsync("get_policy");
            var row = await Store.GetAsync<PolicyRow>(r.Args[0]) ?? throw IdentityError.NotFound("policy", r.Args[0]);
            await WriteAsync(r.Context, 200, new JsonObject { ["policy"] = ExtensionViews.Policy(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/policies/{id}", async r =>
        {
            await r.EnforceAsync("update_policy");
            var row = await Store.GetAsync<PolicyRow>(r.Args[0]) ?? throw IdentityError.NotFound("policy", r.Args[0]);
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "policy", "request body");
            if (given.Count == 0) throw IdentityError.Invalid("Expecting to find at least one attribute in policy.");
            RequireMatchingId(given, row.Id);
            if (JsonBody.OptionalString(given, "type", "policy") is { } type) row.Type = PolicyType(type);
            if (JsonBody.OptionalString(given, "blob", "policy") is { } blob) row.Blob = blob;
            row.Extra = Views.Compact(ExtensionViews.Extra(given, ExtensionViews.ParseObject(row.Extra), PolicyFields));
            await Store.UpdateAsync(row);
            await WriteAsync(r.Context, 200, new JsonObject { ["policy"] = ExtensionViews.Policy(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/policies/{id}", async r =>
        {
            await r.EnforceAsync("delete_policy");
            if (!await Store.DeleteAsync<PolicyRow>(r.Args[0])) throw IdentityError.NotFound("policy", r.Args[0]);
            await NoContent(r.Context);
        });
    }

    private static string PolicyType(string type) =>
        type.Length <= 255 ? type : throw IdentityError.Invalid("Invalid input for field 'type': longer than 255 characters.");
}
