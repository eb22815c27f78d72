using System.Text.Json.Nodes;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/OS-EP-FILTER/endpoint_groups: named filters over the catalog's endpoints.
public sealed partial class IdentityApi
{
    private static readonly string[] EndpointGroupFields = ["name", "description", "filters"];
    private static readonly string[] EndpointGroupFilterKeys = ["service_id", "region_id", "interface"];

    private void MapEndpointGroups()
    {
        const string Collection = "/v3/OS-EP-FILTER/endpoint_groups";
        Map("GET", Collection, async r =>
        {
            await r.EnforceAsync("list_endpoint_groups");
            var rows = await Store.ListAsync<EndpointGroupRow>(("name", r.Query("name")));
            await WriteAsync(r.Context, 200, Views.List("endpoint_groups", $"{r.BaseUrl}/OS-EP-FILTER/endpoint_groups",
                rows.Select(g => ExtensionViews.EndpointGroup(g, r.BaseUrl))));
        });
        Map("POST", Collection, async r =>
        {
            await r.EnforceAsync("create_endpoint_group");
            var given = EndpointGroupBody(await JsonBody.ReadAsync(r.Context));
            if (given["filters"] is not JsonObject { Count: > 0 }) throw IdentityError.Invalid("filters field is required and cannot be empty");
            var row = new EndpointGroupRow { Id = NewId(), Name = JsonBody.Name(JsonBody.String(given, "name", "endpoint_group"), "name") };
            ApplyEndpointGroup(row, given);
            await Store.InsertAsync(row);
            await WriteAsync(r.Context, 201, new JsonObject { ["endpoint_group"] = ExtensionViews.EndpointGroup(row, r.BaseUrl) });
        });
        Map("GET", Collection + "/{id}", async r =>
        {
            await r.EnforceAsync("get_endpoint_group");
            var row = await EndpointGroupAsync(r.Args[0]);
            await WriteAsync(r.Context, 200, new JsonObject { ["endpoint_group"] = ExtensionViews.EndpointGroup(row, r.BaseUrl) });
        });
        Map("PATCH", Collection + "/{id}", async r =>
        {
            await r.EnforceAsync("update_endpoint_group");
            var row = await EndpointGroupAsync(r.Args[0]);
            var given = EndpointGroupBody(await JsonBody.ReadAsync(r.Context));
            if (given.Count == 0) throw IdentityError.Invalid("Expecting to find at least one attribute in endpoint_group.");
            if (JsonBody.OptionalString(given, "name", "endpoint_group") is { } name) row.Name = JsonBody.Name(name, "name");
            ApplyEndpointGroup(row, given);
            await Store.UpdateAsync(row);
            await WriteAsync(r.Context, 200, new JsonObject { ["endpoint_group"] = ExtensionViews.EndpointGroup(row, r.BaseUrl) });
        });
        Map("DELETE", Collection + "/{id}", async r =>
        {
            await r.EnforceAsync("delete_endpoint_group");
            if (!await Store.DeleteAsync<EndpointGroupRow>(r.Args[0])) throw IdentityError.NotFound("endpoint group", r.Args[0]);
            await NoContent(r.Context);
        });
        Map("GET", Collection + "/{id}/endpoints", async r =>
        {
            await r.EnforceAsync("list_endpoints_associated_with_endpoint_group");
            var row = await EndpointGroupAsync(r.Args[0]);
            var filters = ExtensionViews.ParseObject(row.Filters);
            var endpoints = await Store.ListAsync<EndpointRow>(
                ("service_id", filters["service_id"]?.GetValue<string>()), ("region_id", filters["region_id"]?.GetValue<string>()),
                ("interface", filters["interface"]?.GetValue<string>()));
            await WriteAsync(r.Context, 200, Views.List("endpoints", $"{r.BaseUrl}/OS-EP-FILTER/endpoint_groups/{row.Id}/endpoints",
                endpoints.Select(e => Views.Endpoint(e, r.BaseUrl))));
        });
    }

    private async Task<EndpointGroupRow> EndpointGroupAsync(string id) =>
        await Store.GetAsync<EndpointGroupRow>(id) ?? throw IdentityError.NotFound("endpoint group", id);

    /// <summary>The endpoint_group object of a request; unknown attributes are refused, as Keystone's schema does.</summary>
    private static JsonObject EndpointGroupBody(JsonObject body)
    {
        var given = JsonBody.Object(body, "endpoint_group", "request body");
        foreach (var (key, _) in given)
            if (Array.IndexOf(EndpointGroupFields, key) < 0)
                throw IdentityError.Invalid($"Additional properties are not allowed ('{key}' was unexpected) in endpoint_group.");
        return given;
    }

    private static void ApplyEndpointGroup(EndpointGroupRow row, JsonObject given)
    {
        if (given.ContainsKey("description")) row.Description = JsonBody.OptionalString(given, "description", "endpoint_group");
        if (JsonBody.OptionalObject(given, "filters", "endpoint_group") is not { } filters) return;
        var kept = new JsonObject();
        foreach (var (key, _) in filters)
        {
            if (Array.IndexOf(EndpointGroupFilterKeys, key) < 0)
                throw IdentityError.Invalid("Invalid input for field 'filters': only service_id, region_id and interface can be filtered on.");
            var value = JsonBody.OptionalString(filters, key, "filters");
            if (key == "interface" && (value is null || !Interfaces.Contains(value)))
                throw IdentityError.Invalid($"Invalid input for field 'interface': '{value}' is not one of public, internal, admin.");
            if (value is not null) kept[key] = value;
        }
        row.Filters = Views.Compact(kept);
    }
}
