using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Nova's os-hosts (admins, up to 2.42; 404 from 2.43): the one host's services by zone, its resources (total, used,
/// per project), an update of status and maintenance mode, and power actions, which this appliance does not take
/// (501, as Nova answers for a driver without host power management: the appliance is not powered off over an API).
/// A host disabled or in maintenance takes no new servers (No valid host was found) and its compute service shows
/// disabled.
/// </summary>
public sealed partial class NovaApi
{
    private static readonly string[] HostSwitches = ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"];

    private void MapHosts()
    {
        Map("GET", "/os-hosts", async r =>
        {
            RequireHostsApi(r);
            var zone = r.Query("zone");
            var list = new JsonArray();
            foreach (var (service, serviceZone) in new[] { ("conductor", "internal"), ("scheduler", "internal"), ("compute", "nova") })
                if (string.IsNullOrEmpty(zone) || zone == serviceZone)
                    list.Add(new JsonObject { ["host_name"] = _settings.HostName, ["service"] = service, ["zone"] = serviceZone });
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["hosts"] = list });
        });
        Map("GET", "/os-hosts/{host}", async r =>
        {
            RequireHost(r);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["host"] = await HostResourcesAsync(r) });
        });
        Map("PUT", "/os-hosts/{host}", UpdateHostAsync);
        foreach (var action in new[] { "startup", "shutdown", "reboot" })
            Map("GET", "/os-hosts/{host}/" + action, r =>
            {
                RequireHost(r);
                throw new ApiError(501, "Virt driver does not implement host power management.");
            });
    }

    private static void RequireHostsApi(ApiRequest r)
    {
        if (AtLeast(r, 43)) throw NotFound("The resource could not be found.");
        Enforce(r, "admin");
    }

    private void RequireHost(ApiRequest r)
    {
        RequireHostsApi(r);
        if (r.Args[0] != _settings.HostName) throw NotFound($"Host {r.Args[0]} could not be found.");
    }

    /// <summary>The host's resources as Nova lists them: (total), (used_now), (used_max), then one line per project with servers.</summary>
    private async Task<JsonArray> HostResourcesAsync(ApiRequest r)
    {
        var hypervisor = await HypervisorAsync(r, detail: true);
        var live = (await AllAsync(ServerKind)).Where(s => !Flag(s, "_deleted")).ToList();
        JsonObject Line(string project, long cpu, long memory, long disk) => new()
        {
            ["resource"] = new JsonObject { ["host"] = _settings.HostName, ["project"] = project, ["cpu"] = cpu, ["memory_mb"] = memory, ["disk_gb"] = disk },
        };
        static long Disk(JsonObject s) => Long(s["flavor"]!.AsObject(), "disk") + Long(s["flavor"]!.AsObject(), "ephemeral");
        var list = new JsonArray(
            Line("(total)", Long(hypervisor, "vcpus"), Long(hypervisor, "memory_mb"), Long(hypervisor, "local_gb")),
            Line("(used_now)", Long(hypervisor, "vcpus_used"), Long(hypervisor, "memory_mb_used"), Long(hypervisor, "local_gb_used")),
            Line("(used_max)", live.Sum(s => Long(s["flavor"]!.AsObject(), "vcpus")), live.Sum(s => Long(s["flavor"]!.AsObject(), "ram")), live.Sum(Disk)));
        foreach (var group in live.GroupBy(s => Str(s, "tenant_id")!))
            list.Add(Line(group.Key, group.Sum(s => Long(s["flavor"]!.AsObject(), "vcpus")), group.Sum(s => Long(s["flavor"]!.AsObject(), "ram")), group.Sum(Disk)));
        return list;
    }

    /// <summary>PUT os-hosts/{host}: status and maintenance_mode, each enable or disable (Nova's spellings); 400 for anything else.</summary>
    private async Task UpdateHostAsync(ApiRequest r)
    {
        RequireHostsApi(r);
        var body = await JsonBody.ReadAsync(r.Context);
        string? Switch(string field)
        {
            if (!body.ContainsKey(field)) return null;
            var text = body[field] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            return text is not null && Array.IndexOf(HostSwitches, text) >= 0 ? text.ToLowerInvariant()
                : throw ApiError.BadRequest($"Invalid input for field/attribute {field}. Value: {body[field]?.ToJsonString() ?? "None"}. It is not one of {string.Join(", ", HostSwitches)}");
        }
        foreach (var (key, _) in body)
            if (key is not ("status" or "maintenance_mode")) throw ApiError.BadRequest($"Invalid input for field/attribute request body. Additional properties are not allowed ('{key}' was unexpected)");
        var status = Switch("status");
        var maintenance = Switch("maintenance_mode");
        if (status is null && maintenance is null) throw ApiError.BadRequest("'status' or 'maintenance_mode' needed for host update");
        if (r.Args[0] != _settings.HostName) throw NotFound($"Host {r.Args[0]} could not be found.");
        var record = await HostRecordAsync();
        var answer = new JsonObject { ["host"] = _settings.HostName };
        if (status is not null)
        {
            var value = status == "enable" ? "enabled" : "disabled";
            (answer["status"], record["status"]) = (value, value);
        }
        if (maintenance is not null)
        {
            var value = maintenance == "enable" ? "on_maintenance" : "off_maintenance";
            (answer["maintenance_mode"], record["maintenance_mode"]) = (value, value);
        }
        await SaveAsync(HostKind, _settings.HostName, "", record);
        await ApiResponses.WriteJsonAsync(r.Context, 200, answer);
    }

    private const string HostKind = "host";

    /// <summary>The host's record: its compute service's status (a disabled one takes no new servers) and maintenance mode.</summary>
    private async Task<JsonObject> HostRecordAsync()
    {
        if (await LoadAsync(HostKind, _settings.HostName) is { } record) return record;
        record = new JsonObject { ["status"] = "enabled", ["maintenance_mode"] = "off_maintenance" };
        await InsertAsync(HostKind, _settings.HostName, "", record);
        return record;
    }

    /// <summary>True when admins took the host out of service (os-hosts status disabled, or maintenance mode).</summary>
    private async Task<bool> HostAcceptsServersAsync() =>
        await LoadAsync(HostKind, _settings.HostName) is not { } record || (Str(record, "status") != "disabled" && Str(record, "maintenance_mode") != "on_maintenance");
}
