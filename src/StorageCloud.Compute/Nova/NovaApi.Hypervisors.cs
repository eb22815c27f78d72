using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// The one hypervisor (admins only): list and detail (with its servers from 2.53), show, statistics, uptime, and the
/// search and servers views Nova had up to 2.52. cpu_info is a string below 2.28 and an object from 2.28.
/// </summary>
public sealed partial class NovaApi
{
    private void MapHypervisors()
    {
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
        Map("GET", "/os-hypervisors/{id}/uptime", async r =>
        {
            Enforce(r, "admin");
            if (r.Args[0] != HypervisorId(r)) throw NotFound($"Hypervisor with ID '{r.Args[0]}' could not be found.");
            var view = await HypervisorAsync(r, detail: false);
            view["uptime"] = Uptime();
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["hypervisor"] = view });
        });
        Map("GET", "/os-hypervisors/{pattern}/search", r => HypervisorsMatchingAsync(r, servers: false));
        Map("GET", "/os-hypervisors/{pattern}/servers", r => HypervisorsMatchingAsync(r, servers: true));
    }

    private string HypervisorId(ApiRequest r) => AtLeast(r, 53) ? ServiceUuid("hypervisor") : "1";

    private async Task HypervisorsAsync(ApiRequest r, bool detail)
    {
        Enforce(r, "admin");
        var view = await HypervisorAsync(r, detail);
        if (AtLeast(r, 53) && WithServers(r)) await AddServersAsync(view);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["hypervisors"] = new JsonArray(view) });
    }

    /// <summary>with_servers (2.53): a boolean; anything else is Nova's 400.</summary>
    private static bool WithServers(ApiRequest r) => r.Query("with_servers") switch
    {
        null or "false" or "False" or "0" => false,
        "true" or "True" or "1" => true,
        var other => throw ApiError.BadRequest($"Invalid input for query parameters with_servers. Value: {other}. '{other}' is not a 'boolean'"),
    };

    /// <summary>/{pattern}/search and /{pattern}/servers (up to 2.52): the hypervisor whose name holds the pattern, 404 when none does.</summary>
    private async Task HypervisorsMatchingAsync(ApiRequest r, bool servers)
    {
        if (AtLeast(r, 53)) throw NotFound("The resource could not be found.");
        Enforce(r, "admin");
        if (!_settings.HostName.Contains(r.Args[0], StringComparison.Ordinal)) throw NotFound($"No hypervisor matching '{r.Args[0]}' could be found.");
        var view = await HypervisorAsync(r, detail: false);
        if (servers) await AddServersAsync(view);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["hypervisors"] = new JsonArray(view) });
    }

    /// <summary>The host's live servers, every project's, as [{uuid, name}] (omitted when there are none, as Nova omits it).</summary>
    private async Task AddServersAsync(JsonObject view)
    {
        var list = new JsonArray();
        foreach (var server in await AllAsync(ServerKind))
            if (!Flag(server, "_deleted")) list.Add(new JsonObject { ["uuid"] = Str(server, "id"), ["name"] = Str(server, "name") });
        if (list.Count > 0) view["servers"] = list;
    }

    /// <summary>What uptime(1) prints, which Nova's drivers return: the time, how long the machine has been up, load averages.</summary>
    private static string Uptime()
    {
        var seconds = double.TryParse(File.Exists("/proc/uptime") ? File.ReadAllText("/proc/uptime").Split(' ')[0] : "", CultureInfo.InvariantCulture, out var s)
            ? s : (DateTimeOffset.UtcNow - Started).TotalSeconds;
        var up = TimeSpan.FromSeconds(seconds);
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ') : ["0.00", "0.00", "0.00"];
        return string.Create(CultureInfo.InvariantCulture,
            $" {DateTime.UtcNow:HH:mm:ss} up {up.Days} days, {up.Hours:00}:{up.Minutes:00},  0 users,  load average: {load[0]}, {load[1]}, {load[2]}");
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
        const long localGb = 1024;
        view["hypervisor_type"] = _driver.RunsGuests ? "QEMU" : "fake";
        view["hypervisor_version"] = 1000;
        view["host_ip"] = "127.0.0.1";
        view["service"] = new JsonObject { ["host"] = _settings.HostName, ["id"] = AtLeast(r, 53) ? ServiceUuid("nova-compute") : 3, ["disabled_reason"] = null };
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
        var cpu = new JsonObject
        {
            ["arch"] = "x86_64", ["model"] = "qemu64", ["vendor"] = "QEMU",
            ["topology"] = new JsonObject { ["sockets"] = 1, ["cores"] = _settings.Vcpus, ["threads"] = 1 }, ["features"] = new JsonArray(),
        };
        view["cpu_info"] = AtLeast(r, 28) ? cpu : cpu.ToJsonString();
        return view;
    }
}
