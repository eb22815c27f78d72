using System.Text.Json.Nodes;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/regions, /v3/services and /v3/endpoints: the service catalog.
public sealed partial class IdentityApi
{
    private static readonly string[] Interfaces = ["public", "internal", "admin"];

    private void MapCatalog()
    {
        Map("GET", "/v3/regions", async r =>
        {
            await r.EnforceAsync("list_regions");
            var rows = await Store.ListAsync<RegionRow>(("parent_region_id", r.Query("parent_region_id")));
            await WriteAsync(r.Context, 200, Views.List("regions", $"{r.BaseUrl}/regions", rows.Select(x => Views.Region(x, r.BaseUrl))));
        });
        Map("POST", "/v3/regions", async r =>
        {
            await r.EnforceAsync("create_region");
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "region", "request body");
            var row = new RegionRow
            {
                Id = JsonBody.Name(JsonBody.OptionalString(given, "id", "region") ?? NewId(), "id"),
                Description = JsonBody.OptionalString(given, "description", "region") ?? "",
                ParentRegionId = JsonBody.OptionalString(given, "parent_region_id", "region"),
            };
            if (row.ParentRegionId is not null && await Store.GetAsync<RegionRow>(row.ParentRegionId) is null)
                throw IdentityError.NotFound("region", row.ParentRegionId);
            if (!await Store.InsertAsync(row)) throw IdentityError.Conflict("region", $"Duplicate ID, {row.Id}");
            await WriteAsync(r.Context, 201, new JsonObject { ["region"] = Views.Region(row, r.BaseUrl) });
        });
        Map("GET", "/v3/regions/{id}", async r =>
        {
            await r.EnforceAsync("get_region");
            var row = await Store.GetAsync<RegionRow>(r.Args[0]) ?? throw IdentityError.NotFound("region", r.Args[0]);
            await WriteAsync(r.Context, 200, new JsonObject { ["region"] = Views.Region(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/regions/{id}", async r =>
        {
            await r.EnforceAsync("update_region");
            var row = await Store.GetAsync<RegionRow>(r.Args[0]) ?? throw IdentityError.NotFound("region", r.Args[0]);
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "region", "request body");
            if (JsonBody.OptionalString(given, "description", "region") is { } description) row.Description = description;
            await Store.UpdateAsync(row);
            await WriteAsync(r.Context, 200, new JsonObject { ["region"] = Views.Region(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/regions/{id}", async r =>
        {
            await r.EnforceAsync("delete_region");
            if (!await Store.DeleteAsync<RegionRow>(r.Args[0])) throw IdentityError.NotFound("region", r.Args[0]);
            await NoContent(r.Context);
        });

        Map("GET", "/v3/services", async r =>
        {
            await r.EnforceAsync("list_services");
            var rows = await Store.ListAsync<ServiceRow>(("type", r.Query("type")), ("name", r.Query("name")));
            await WriteAsync(r.Context, 200, Views.List("services", $"{r.BaseUrl}/services", rows.Select(x => Views.Service(x, r.BaseUrl))));
        });
        Map("POST", "/v3/services", async r =>
        {
            await r.EnforceAsync("create_service");
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "service", "request body");
            var row = new ServiceRow { Id = NewId(), Type = JsonBody.Name(JsonBody.String(given, "type", "service"), "type") };
            ApplyService(row, given);
            await Store.InsertAsync(row);
            await WriteAsync(r.Context, 201, new JsonObject { ["service"] = Views.Service(row, r.BaseUrl) });
        });
        Map("GET", "/v3/services/{id}", async r =>
        {
            await r.EnforceAsync("get_service");
            var row = await Store.GetAsync<ServiceRow>(r.Args[0]) ?? throw IdentityError.NotFound("service", r.Args[0]);
            await WriteAsync(r.Context, 200, new JsonObject { ["service"] = Views.Service(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/services/{id}", async r =>
        {
            await r.EnforceAsync("update_service");
            var row = await Store.GetAsync<ServiceRow>(r.Args[0]) ?? throw IdentityError.NotFound("service", r.Args[0]);
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "service", "request body");
            if (JsonBody.OptionalString(given, "type", "service") is { } type) row.Type = JsonBody.Name(type, "type");
            ApplyService(row, given);
            await Store.UpdateAsync(row);
            await WriteAsync(r.Context, 200, new JsonObject { ["service"] = Views.Service(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/services/{id}", async r =>
        {
            await r.EnforceAsync("delete_service");
            if (await Store.GetAsync<ServiceRow>(r.Args[0]) is null) throw IdentityError.NotFound("service", r.Args[0]);
            await Store.ExecuteAsync("DELETE FROM endpoints WHERE service_id = @id", new { id = r.Args[0] });
            await Store.DeleteAsync<ServiceRow>(r.Args[0]);
            await NoContent(r.Context);
        });

        Map("GET", "/v3/endpoints", async r =>
        {
            await r.EnforceAsync("list_endpoints");
            var rows = await Store.ListAsync<EndpointRow>(("interface", r.Query("interface")), ("service_id", r.Query("service_id")), ("region_id", r.Query("region_id")));
            await WriteAsync(r.Context, 200, Views.List("endpoints", $"{r.BaseUrl}/endpoints", rows.Select(x => Views.Endpoint(x, r.BaseUrl))));
        });
        Map("POST", "/v3/endpoints", async r =>
        {
            await r.EnforceAsync("create_endpoint");
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "endpoint", "request body");
            var row = new EndpointRow { Id = NewId() };
            await ApplyEndpointAsync(row, given, creating: true);
            await Store.InsertAsync(row);
            await WriteAsync(r.Context, 201, new JsonObject { ["endpoint"] = Views.Endpoint(row, r.BaseUrl) });
        });
        Map("GET", "/v3/endpoints/{id}", async r =>
        {
            await r.EnforceAsync("get_endpoint");
            var row = await Store.GetAsync<EndpointRow>(r.Args[0]) ?? throw IdentityError.NotFound("endpoint", r.Args[0]);
            await WriteAsync(r.Context, 200, new JsonObject { ["endpoint"] = Views.Endpoint(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/endpoints/{id}", async r =>
        {
            await r.EnforceAsync("update_endpoint");
            var row = await Store.GetAsync<EndpointRow>(r.Args[0]) ?? throw IdentityError.NotFound("endpoint", r.Args[0]);
            await ApplyEndpointAsync(row, JsonBody.Object(await JsonBody.ReadAsync(r.Context), "endpoint", "request body"), creating: false);
            await Store.UpdateAsync(row);
            await WriteAsync(r.Context, 200, new JsonObject { ["endpoint"] = Views.Endpoint(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/endpoints/{id}", async r =>
        {
            await r.EnforceAsync("delete_endpoint");
            if (!await Store.DeleteAsync<EndpointRow>(r.Args[0])) throw IdentityError.NotFound("endpoint", r.Args[0]);
            await NoContent(r.Context);
        });
    }

    private static void ApplyService(ServiceRow row, JsonObject given)
    {
        if (JsonBody.OptionalString(given, "name", "service") is { } name) row.Name = name;
        if (JsonBody.OptionalString(given, "description", "service") is { } description) row.Description = description;
        if (JsonBody.OptionalBool(given, "enabled", "service") is { } enabled) row.Enabled = enabled ? 1 : 0;
    }

    private async Task ApplyEndpointAsync(EndpointRow row, JsonObject given, bool creating)
    {
        if (JsonBody.OptionalString(given, "service_id", "endpoint") is { } service)
        {
            if (await Store.GetAsync<ServiceRow>(service) is null) throw IdentityError.NotFound("service", service);
            row.ServiceId = service;
        }
        else if (creating) throw IdentityError.Invalid("Expecting to find service_id in endpoint.");
        if (JsonBody.OptionalString(given, "interface", "endpoint") is { } iface)
        {
            if (Array.IndexOf(Interfaces, iface) < 0) throw IdentityError.Invalid($"Invalid input for field 'interface': '{iface}' is not one of public, internal, admin.");
            row.Interface = iface;
        }
        else if (creating) throw IdentityError.Invalid("Expecting to find interface in endpoint.");
        if (JsonBody.OptionalString(given, "url", "endpoint") is { } url)
        {
            if (!url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                throw IdentityError.Invalid($"Invalid input for field 'url': '{url}' is not a valid URL.");
            row.Url = url;
        }
        else if (creating) throw IdentityError.Invalid("Expecting to find url in endpoint.");
        var region = JsonBody.OptionalString(given, "region_id", "endpoint") ?? JsonBody.OptionalString(given, "region", "endpoint");
        if (region is not null)
        {
            if (await Store.GetAsync<RegionRow>(region) is null) throw IdentityError.NotFound("region", region);
            row.RegionId = region;
        }
        if (JsonBody.OptionalBool(given, "enabled", "endpoint") is { } enabled) row.Enabled = enabled ? 1 : 0;
    }
}
