using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    private readonly string _startedAt = Volumes.VolumeManager.Now();

    private void MapInfo()
    {
        Project("GET", "/os-availability-zone", AvailabilityZonesAsync);
        Project("GET", "/os-services", ServicesAsync);
        Project("GET", "/extensions", ExtensionsAsync);
        Project("GET", "/os-hosts", HostsAsync);
        Project("GET", "/scheduler-stats/get_pools", PoolsAsync);
        Project("GET", "/os-quota-class-sets/{class}", QuotaClassAsync);
        Project("PUT", "/os-quota-class-sets/{class}", QuotaClassAsync);
        Project("GET", "/messages", MessagesAsync);
    }

    /// <summary>GET /volumes/summary (3.12): how many volumes the caller's project (or every project, for an admin with all_tenants) holds, and their GiB.</summary>
    private async Task VolumeSummaryAsync(ApiRequest r)
    {
        Enforce(r, "read");
        if (!Version(r).AtLeast(new ApiVersion(3, 12))) throw ApiError.NotFound("Volume summary could not be found.");
        var rows = await _store.ListAsync<Volumes.VolumeRow>(("project_id", AllTenants(r) ? null : ProjectOf(r)));
        long total = 0;
        var metadata = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            total += Gigabytes(row.Size);
            foreach (var (key, value) in ParseObject(row.Metadata))
            {
                if (!metadata.TryGetValue(key, out var values)) metadata[key] = values = new SortedSet<string>(StringComparer.Ordinal);
                values.Add(value?.ToString() ?? "");
            }
        }
        var summary = new JsonObject { ["total_size"] = total, ["total_count"] = rows.Count };
        if (Version(r).AtLeast(new ApiVersion(3, 36)))
        {
            var meta = new JsonObject();
            foreach (var (key, values) in metadata) meta[key] = new JsonArray([.. values.Select(v => (JsonNode)v)]);
            summary["metadata"] = meta;
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume-summary"] = summary });
    }

    /// <summary>GET /os-hosts (admin): this gateway as Cinder's one volume host.</summary>
    private static Task HostsAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var hosts = new JsonArray();
        foreach (var (service, host) in new[] { ("cinder-scheduler", "storagecloud"), ("cinder-volume", "storagecloud@nbd") })
        {
            hosts.Add(new JsonObject
            {
                ["service-status"] = "available",
                ["service"] = service,
                ["zone"] = "nova",
                ["service-state"] = "enabled",
                ["host_name"] = host,
                ["last-update"] = Volumes.VolumeManager.Now(),
            });
        }
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["hosts"] = hosts });
    }

    /// <summary>GET /scheduler-stats/get_pools (admin): the one pool, the storage nodes' chunks.</summary>
    private Task PoolsAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var pool = new JsonObject { ["name"] = "storagecloud@nbd#chunks" };
        if (r.Query("detail") is "True" or "true" or "1")
        {
            pool["capabilities"] = new JsonObject
            {
                ["pool_name"] = "chunks",
                ["volume_backend_name"] = "nbd",
                ["vendor_name"] = "StorageCloud",
                ["driver_version"] = "1.0",
                ["storage_protocol"] = "nbd",
                ["total_capacity_gb"] = "infinite",
                ["free_capacity_gb"] = "infinite",
                ["reserved_percentage"] = 0,
                ["thin_provisioning_support"] = true,
                ["max_over_subscription_ratio"] = "20.0",
                ["multiattach"] = false,
                ["timestamp"] = _startedAt,
            };
        }
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["pools"] = new JsonArray(pool) });
    }

    /// <summary>GET/PUT /os-quota-class-sets/default: the limits of projects that set none of their own.</summary>
    private async Task QuotaClassAsync(ApiRequest r)
    {
        Enforce(r, r.Context.Request.Method == "PUT" ? "admin" : "read");
        if (r.Args[1] != "default") throw ApiError.NotFound($"Quota class {r.Args[1]} could not be found.");
        var set = new JsonObject();
        if (r.Context.Request.Method == "PUT")
        {
            var body = await BodyAsync(r, "quota_class_set");
            await SetLimitsAsync(DefaultClass, body, checkUsage: false);
        }
        else
        {
            set["id"] = "default";
        }
        foreach (var (resource, value) in await LimitsOfAsync(DefaultClass)) set[resource] = value;
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota_class_set"] = set });
    }

    /// <summary>GET /messages (3.3): user messages; operations here fail in the request itself, so there are none.</summary>
    private static Task MessagesAsync(ApiRequest r)
    {
        Enforce(r, "read");
        if (!Version(r).AtLeast(new ApiVersion(3, 3))) throw ApiError.NotFound("The resource could not be found.");
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["messages"] = new JsonArray() });
    }

    private static Task AvailabilityZonesAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var zone = new JsonObject { ["zoneName"] = "nova", ["zoneState"] = new JsonObject { ["available"] = true } };
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["availabilityZoneInfo"] = new JsonArray(zone) });
    }

    /// <summary>The volume service as Cinder's services: the API, the scheduler and one volume backend (this gateway's chunks).</summary>
    private Task ServicesAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var services = new JsonArray();
        foreach (var (binary, host) in new[] { ("cinder-scheduler", "storagecloud"), ("cinder-volume", "storagecloud@nbd") })
        {
            if (r.Query("binary") is { } wanted && wanted != binary) continue;
            // A host filter names the host with or without its backend ("storagecloud" matches "storagecloud@nbd").
            if (r.Query("host") is { } wantedHost && wantedHost != host && !host.StartsWith(wantedHost + "@", StringComparison.Ordinal)) continue;
            var service = new JsonObject
            {
                ["binary"] = binary,
                ["host"] = host,
                ["zone"] = "nova",
                ["status"] = "enabled",
                ["state"] = "up",
                ["updated_at"] = Volumes.VolumeManager.Now(),
                ["disabled_reason"] = null,
            };
            if (Version(r).AtLeast(new ApiVersion(3, 7))) service["cluster"] = null;
            if (Version(r).AtLeast(new ApiVersion(3, 49))) service["backend_state"] = binary == "cinder-volume" ? "up" : null;
            services.Add(service);
        }
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["services"] = services });
    }

    private Task ExtensionsAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var extensions = new JsonArray();
        foreach (var (alias, name) in new[]
                 {
                     ("os-availability-zone", "AvailabilityZones"), ("os-extended-snapshot-attributes", "ExtendedSnapshotAttributes"),
                     ("os-quota-sets", "Quotas"), ("os-types-manage", "TypesManage"), ("os-types-extra-specs", "TypesExtraSpecs"),
                     ("os-volume-actions", "VolumeActions"), ("os-volume-transfer", "VolumeTransfer"), ("os-vol-tenant-attr", "VolumeTenantAttribute"),
                     ("os-admin-actions", "AdminActions"), ("os-services", "Services"),
                 })
        {
            extensions.Add(new JsonObject
            {
                ["alias"] = alias,
                ["name"] = name,
                ["description"] = name,
                ["namespace"] = $"https://docs.openstack.org/volume/ext/{alias}/api/v1",
                ["updated"] = _startedAt,
                ["links"] = new JsonArray(),
            });
        }
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["extensions"] = extensions });
    }
}
