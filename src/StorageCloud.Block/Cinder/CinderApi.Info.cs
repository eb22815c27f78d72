using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    private readonly string _startedAt = Volumes.VolumeManager.Now();

    private void MapInfo()
    {
        MapServices();
        MapMessages();
        MapQos();
        Project("GET", "/os-availability-zone", AvailabilityZonesAsync);
        Project("GET", "/extensions", ExtensionsAsync);
        Project("GET", "/scheduler-stats/get_pools", PoolsAsync);
        Project("GET", "/os-quota-class-sets/{class}", QuotaClassAsync);
        Project("PUT", "/os-quota-class-sets/{class}", QuotaClassAsync);
    }

    /// <summary>GET /volumes/summary (3.12): how many volumes the caller's project (or every project, for an admin with all_tenants) holds, and their GiB.</summary>
    private async Task VolumeSummaryAsync(ApiRequest r)
    {
        Enforce(r, "read");
        if (!Version(r).AtLeast(new ApiVersion(3, 12))) throw ApiError.NotFound("Volume summary could not be found.");
        var rows = await _store.ListAsync<Volumes.VolumeRow>(("project_id", AllTenants(r) ? null : ProjectOf(r)), ("owner_instance", ""));
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

    /// <summary>GET /scheduler-stats/get_pools (admin): the one pool, the storage nodes' chunks.</summary>
    private Task PoolsAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var pool = new JsonObject { ["name"] = PoolHost };
        if (r.Query("detail") is "True" or "true" or "1")
        {
            pool["capabilities"] = new JsonObject
            {
                ["pool_name"] = "chunks",
                ["volume_backend_name"] = BackendName,
                ["vendor_name"] = VendorName,
                ["driver_version"] = DriverVersion,
                ["storage_protocol"] = StorageProtocol,
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

    private static Task AvailabilityZonesAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var zone = new JsonObject { ["zoneName"] = "nova", ["zoneState"] = new JsonObject { ["available"] = true } };
        return ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["availabilityZoneInfo"] = new JsonArray(zone) });
    }

    private Task ExtensionsAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var extensions = new JsonArray();
        foreach (var (alias, name) in new[]
                 {
                     ("os-availability-zone", "AvailabilityZones"), ("os-extended-snapshot-attributes", "ExtendedSnapshotAttributes"),
                     ("os-quota-sets", "Quotas"), ("os-quota-class-sets", "QuotaClasses"), ("os-types-manage", "TypesManage"),
                     ("os-types-extra-specs", "TypesExtraSpecs"), ("os-volume-type-access", "VolumeTypeAccess"), ("encryption", "VolumeTypeEncryption"),
                     ("qos-specs", "Qos_specs_manage"), ("os-volume-actions", "VolumeActions"), ("os-volume-transfer", "VolumeTransfer"),
                     ("os-vol-tenant-attr", "VolumeTenantAttribute"), ("os-vol-host-attr", "VolumeHostAttribute"),
                     ("os-vol-mig-status-attr", "VolumeMigStatusAttribute"), ("os-admin-actions", "AdminActions"), ("os-services", "Services"),
                     ("os-hosts", "Hosts"), ("scheduler-stats", "Scheduler_stats"), ("capabilities", "Capabilities"),
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
