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
            if (r.Query("host") is { } wantedHost && wantedHost != host) continue;
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
