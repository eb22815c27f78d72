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
        Map("POST", "/v3/regions", r => CreateRegionAsync(r, null));
        // Keystone's way to choose a region's id.
        Map("PUT", "/v3/regions/{id}", r => CreateRegionAsync(r, r.Args[0]));
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
            if (given.ContainsKey("parent_region_id"))
            {
                row.ParentRegionId = JsonBody.OptionalString(given, "parent_region_id", "region");
                await CheckParentRegionAsync(row);
            }
            await Store.UpdateAsync(row);
            await WriteAsync(r.Context, 200, new JsonObject { ["region"] = Views.Region(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/regions/{id}", async r =>
        {
            await r.EnforceAsync("delete_region");
            var row = await Store.GetAsync<RegionRow>(r.Args[0]) ?? throw IdentityError.NotFound("region", r.Args[0]);
            // A region takes its subregions with it, as in Keystone, but never an endpoint's region.
            var doomed = await RegionTreeAsync(row.Id);
            foreach (var id in doomed)
                if ((await Store.ListAsync<EndpointRow>(("region_id", id))).Count > 0)
                    throw new IdentityError(403, $"Unable to delete region {row.Id} because it or its child regions have associated endpoints.");
            foreach (var id in doomed) await Store.DeleteAsync<RegionRow>(id);
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

    private async Task CreateRegionAsync(IdentityRequest r, string? chosenId)
    {
        await r.EnforceAsync("create_region");
        var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "region", "request body");
        var bodyId = JsonBody.OptionalString(given, "id", "region");
        if (chosenId is not null && bodyId is not null && bodyId != chosenId)
            throw IdentityError.Invalid("The region id in the body differs from the one in the URL.");
        var row = new RegionRow
        {
            Id = JsonBody.Name(chosenId ?? bodyId ?? NewId(), "id"),
            Description = JsonBody.OptionalString(given, "description", "region") ?? "",
            ParentRegionId = JsonBody.OptionalString(given, "parent_region_id", "region"),
        };
        await CheckParentRegionAsync(row);
        if (!await Store.InsertAsync(row)) throw IdentityError.Conflict("region", $"Duplicate ID, {row.Id}");
        await WriteAsync(r.Context, 201, new JsonObject { ["region"] = Views.Region(row, r.BaseUrl) });
    }

    /// <summary>The parent must exist and must not be the region itself or one of its subregions.</summary>
    private async Task CheckParentRegionAsync(RegionRow row)
    {
        if (row.ParentRegionId is null) return;
        if (await Store.GetAsync<RegionRow>(row.ParentRegionId) is null) throw IdentityError.NotFound("region", row.ParentRegionId);
        if ((await RegionTreeAsync(row.Id)).Contains(row.ParentRegionId))
            throw IdentityError.Invalid($"Circular reference or a repeated entry found in region tree - {row.Id}.");
    }

    /// <summary>The region's id and those of all its subregions.</summary>
    private async Task<List<string>> RegionTreeAsync(string id)
    {
        var tree = new List<string> { id };
        for (var i = 0; i < tree.Count; i++)
            foreach (var child in await Store.ListAsync<RegionRow>(("parent_region_id", tree[i])))
                if (!tree.Contains(child.Id)) tree.Add(child.Id);
        return tree;
    }

    /// <summary>
    /// Resolves an endpoint's legacy "region" attribute: like Keystone, a region named only that way (never by
    /// region_id) is created when missing, so clients written for the v2 catalog keep working.
    /// </summary>
    private async Task<string> EndpointRegionAsync(string region, bool legacy)
    {
        if (await Store.GetAsync<RegionRow>(region) is not null) return region;
        if (!legacy) throw IdentityError.NotFound("region", region);
        await Store.InsertAsync(new RegionRow { Id = JsonBody.Name(region, "region") });
        return region;
    }

    private static void ApplyService(ServiceRow row, JsonObject given)
    {
        if (JsonBody.OptionalString(given, "name", "service") is { } name) row.Name = name;
        if (JsonBody.OptionalString(given, "description", "service") is { } description) row.Description = description;
        if (JsonBody.OptionalBool(given, "enabled", "service") is { } enabled) row.Enabled = enabled ? 1 : 0;
    }

    private async Task ApplyEndpointAsync(EndpointRow row, JsonObject given, bool creating)
    {
        // Checked before anything else, so a refused request leaves no region behind.
        var enabled = JsonBody.OptionalBool(given, "enabled", "endpoint");
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
        var regionId = JsonBody.OptionalString(given, "region_id", "endpoint");
        var region = regionId ?? JsonBody.OptionalString(given, "region", "endpoint");
        if (region is not null) row.RegionId = await EndpointRegionAsync(region, legacy: regionId is null);
        if (enabled is { } isEnabled) row.Enabled = isEnabled ? 1 : 0;
    }
}
