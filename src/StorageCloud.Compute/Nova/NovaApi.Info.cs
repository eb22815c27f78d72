using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>The one host as Nova shows it: availability zones, hypervisors, services, and the lists this appliance has nothing in.</summary>
public sealed partial class NovaApi
{
    private static readonly DateTimeOffset Started = DateTimeOffset.UtcNow;

    private void MapInfo()
    {
        Map("GET", "/os-availability-zone", async r =>
        {
            Enforce(r, "read");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
            {
                ["availabilityZoneInfo"] = new JsonArray(new JsonObject { ["zoneName"] = "nova", ["zoneState"] = new JsonObject { ["available"] = true }, ["hosts"] = null }),
            });
        });
        Map("GET", "/os-availability-zone/detail", async r =>
        {
            Enforce(r, "admin");
            var service = new JsonObject { ["available"] = true, ["active"] = true, ["updated_at"] = Now() };
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
            {
                ["availabilityZoneInfo"] = new JsonArray(
                    new JsonObject
                    {
                        ["zoneName"] = "internal", ["zoneState"] = new JsonObject { ["available"] = true },
                        ["hosts"] = new JsonObject { [_settings.HostName] = new JsonObject { ["nova-conductor"] = service.DeepClone(), ["nova-scheduler"] = service.DeepClone() } },
                    },
                    new JsonObject
                    {
                        ["zoneName"] = "nova", ["zoneState"] = new JsonObject { ["available"] = true },
                        ["hosts"] = new JsonObject { [_settings.HostName] = new JsonObject { ["nova-compute"] = service.DeepClone() } },
                    }),
            });
        });
        Map("GET", "/os-hypervisors", r => HypervisorsAsync(r, detail: false));
        Map("GET", "/os-hypervisors/detail", r => HypervisorsAsync(r, detail: true));
        Map("GET", "/os-hypervisors/statistics", async r =>
        {
            Enforce(r, "admin");
            var view = await HypervisorAsync(r, detail: true);
            var stats = new JsonObject { ["count"] = 1 };
            foreach (var key in new[] { "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used", "free_ram_mb", "free_disk_gb", "current_workload", "running_vms", "disk_available_least" })
                stats[key] = view[key]?.DeepClone() ?? 0;
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["hypervisor_statistics"] = stats });
        });
        Map("GET", "/os-hypervisors/{id}", async r =>
        {
            Enforce(r, "admin");
            if (r.Args[0] != HypervisorId(r)) throw NotFound($"Hypervisor with ID '{r.Args[0]}' could not be found.");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["hypervisor"] = await HypervisorAsync(r, detail: true) });
        });
        Map("GET", "/os-services", async r =>
        {
            Enforce(r, "admin");
            var list = new JsonArray();
            var id = 1;
            foreach (var (binary, zone) in new[] { ("nova-conductor", "internal"), ("nova-scheduler", "internal"), ("nova-compute", "nova") })
                list.Add(new JsonObject
                {
                    ["id"] = AtLeast(r, 53) ? ServiceUuid(binary) : id++, ["binary"] = binary, ["host"] = _settings.HostName, ["zone"] = zone,
                    ["status"] = "enabled", ["state"] = "up", ["updated_at"] = Now(), ["disabled_reason"] = null, ["forced_down"] = false,
                });
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["services"] = list });
        });
        Map("GET", "/extensions", async r =>
        {
            Enforce(r, "read");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["extensions"] = new JsonArray() });
        });
        Map("GET", "/os-aggregates", async r =>
        {
            Enforce(r, "admin");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["aggregates"] = new JsonArray() });
        });
        Map("GET", "/os-migrations", async r =>
        {
            Enforce(r, "admin");
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["migrations"] = new JsonArray() });
        });
    }

    private string ServiceUuid(string name) =>
        new Guid(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(_settings.HostName + "/" + name))).ToString("D");

    private string HypervisorId(ApiRequest r) => AtLeast(r, 53) ? ServiceUuid("hypervisor") : "1";

    private async Task HypervisorsAsync(ApiRequest r, bool detail)
    {
        Enforce(r, "admin");
        var view = await HypervisorAsync(r, detail);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["hypervisors"] = new JsonArray(view) });
    }

    private async Task<JsonObject> HypervisorAsync(ApiRequest r, bool detail)
    {
        var view = new JsonObject
        {
            ["id"] = AtLeast(r, 53) ? HypervisorId(r) : 1,
            ["hypervisor_hostname"] = _settings.HostName,
            ["state"] = "up",
            ["status"] = "enabled",
        };
        if (!detail) return view;
        var live = (await AllAsync(ServerKind)).Where(s => !Flag(s, "_deleted")).ToList();
        var vcpusUsed = live.Sum(s => Long(s["flavor"]!.AsObject(), "vcpus"));
        var ramUsed = live.Sum(s => Long(s["flavor"]!.AsObject(), "ram"));
        var diskUsed = live.Sum(s => Long(s["flavor"]!.AsObject(), "disk"));
        view["hypervisor_type"] = _driver.RunsGuests ? "QEMU" : "fake";
        view["hypervisor_version"] = 1000;
        view["host_ip"] = "127.0.0.1";
        view["service"] = new JsonObject { ["host"] = _settings.HostName, ["id"] = AtLeast(r, 53) ? ServiceUuid("nova-compute") : 3, ["disabled_reason"] = null };
        view["uptime"] = (DateTimeOffset.UtcNow - Started).ToString();
        if (!AtLeast(r, 88))
        {
            const long localGb = 1024;
            view["vcpus"] = _settings.Vcpus;
            view["memory_mb"] = _settings.MemoryMb;
            view["local_gb"] = localGb;
            view["vcpus_used"] = vcpusUsed;
            view["memory_mb_used"] = ramUsed;
            view["local_gb_used"] = diskUsed;
            view["free_ram_mb"] = _settings.MemoryMb - ramUsed;
            view["free_disk_gb"] = localGb - diskUsed;
            view["current_workload"] = 0;
            view["running_vms"] = live.Count;
            view["disk_available_least"] = localGb - diskUsed;
            view["cpu_info"] = "{}";
        }
        return view;
    }
}
