using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Service.Api;
using StorageCloud.Service.Hosting;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Usage (`/os-simple-tenant-usage`: each project's server hours, vCPU, RAM and disk hours over a period) and the
/// daemon that ends builds nobody finishes (a build runs in the process that took the request; if that process
/// stops, its servers would stay in BUILD).
/// </summary>
public sealed partial class NovaApi : IDaemonSource
{
    /// <summary>A build not finished after this long failed: its process went away (the longest step, a volume from an image, waits 5 minutes).</summary>
    private static readonly TimeSpan StalledBuild = TimeSpan.FromMinutes(30);

    /// <inheritdoc />
    public IEnumerable<ServiceDaemon> Daemons() =>
    [
        new("compute-stalled-builds", 60, StartAtOnce: true, FailStalledBuildsAsync),
        new("compute-power-sync", 10, StartAtOnce: true, SyncPowerStatesAsync),
    ];

    /// <summary>Marks servers in BUILD whose record has not changed for <see cref="StalledBuild"/> as ERROR, with a fault saying why.</summary>
    public async Task FailStalledBuildsAsync(CancellationToken cancellationToken)
    {
        var cutoff = DateTimeOffset.UtcNow - StalledBuild;
        foreach (var server in await AllAsync(ServerKind))
        {
            if (Str(server, "status") != "BUILD" || !DateTimeOffset.TryParse(Str(server, "updated"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var updated) || updated > cutoff)
                continue;
            server["status"] = "ERROR";
            server["vm_state"] = "error";
            server["task_state"] = null;
            server["fault"] = new JsonObject
            {
                ["code"] = 500, ["message"] = $"Build of instance {Str(server, "id")} did not finish: the compute service stopped during it.", ["created"] = Now(),
            };
            await SaveServerAsync(server);
        }
    }

    private void MapUsage()
    {
        Map("GET", "/os-instance_usage_audit_log", r => AuditLogAsync(r, "instance_usage_audit_logs", DateTime.UtcNow));
        Map("GET", "/os-instance_usage_audit_log/{before}", r =>
        {
            Enforce(r, "admin");
            if (!DateTime.TryParseExact(r.Args[0], ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.ffffff"], CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var before))
                throw ApiError.BadRequest($"Invalid timestamp for date {r.Args[0]}");
            return AuditLogAsync(r, "instance_usage_audit_log", before);
        });
        Map("GET", "/os-simple-tenant-usage", r =>
        {
            Enforce(r, "admin");
            return UsageReportAsync(r, project: null);
        });
        Map("GET", "/os-simple-tenant-usage/{project}", r =>
        {
            Enforce(r, "read", r.Args[0]);
            if (r.Args[0] != Project(r) && !Me(r).IsAdmin) throw ApiError.Forbidden("os_compute_api:os-simple-tenant-usage:show");
            return UsageReportAsync(r, r.Args[0]);
        });
    }

    private static DateTimeOffset Time(ApiRequest r, string name, DateTimeOffset fallback)
    {
        if (r.Query(name) is not { } text) return fallback;
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUniversalTime()
            : throw ApiError.BadRequest($"Invalid input for query parameters {name}. Value: {text}.");
    }

    private async Task UsageReportAsync(ApiRequest r, string? project)
    {
        var now = DateTimeOffset.UtcNow;
        var end = Time(r, "end", now);
        var start = Time(r, "start", end.AddDays(-1));
        if (start > end) throw ApiError.BadRequest("Invalid start time. The start time cannot occur after the end time.");
        var detailed = project is not null || r.Query("detailed") is "1" or "true" or "True";
        var byProject = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var s in await AllAsync(ServerKind, project))
        {
            if (!DateTimeOffset.TryParse(Str(s, "launched_at") ?? Str(s, "created"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var launched)) continue;
            var terminated = DateTimeOffset.TryParse(Str(s, "terminated_at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : (DateTimeOffset?)null;
            var from = launched > start ? launched : start;
            var to = terminated is { } gone && gone < end ? gone : end;
            if (to <= from) continue;
            var hours = (to - from).TotalHours;
            var flavor = s["flavor"]!.AsObject();
            var owner = Str(s, "tenant_id")!;
            if (!byProject.TryGetValue(owner, out var usage))
                byProject[owner] = usage = new JsonObject
                {
                    ["tenant_id"] = owner, ["total_hours"] = 0.0, ["total_local_gb_usage"] = 0.0, ["total_memory_mb_usage"] = 0.0, ["total_vcpus_usage"] = 0.0,
                    ["start"] = Stamp(start), ["stop"] = Stamp(end), ["server_usages"] = new JsonArray(),
                };
            usage["total_hours"] = usage["total_hours"]!.GetValue<double>() + hours;
            usage["total_local_gb_usage"] = usage["total_local_gb_usage"]!.GetValue<double>() + hours * Long(flavor, "disk");
            usage["total_memory_mb_usage"] = usage["total_memory_mb_usage"]!.GetValue<double>() + hours * Long(flavor, "ram");
            usage["total_vcpus_usage"] = usage["total_vcpus_usage"]!.GetValue<double>() + hours * Long(flavor, "vcpus");
            if (!detailed) continue;
            usage["server_usages"]!.AsArray().Add(new JsonObject
            {
                ["instance_id"] = Str(s, "id"), ["name"] = Str(s, "name"), ["hours"] = hours, ["memory_mb"] = Long(flavor, "ram"), ["local_gb"] = Long(flavor, "disk"),
                ["vcpus"] = Long(flavor, "vcpus"), ["tenant_id"] = owner, ["flavor"] = Str(flavor, "name"), ["started_at"] = Stamp(launched),
                ["ended_at"] = terminated is { } e ? Stamp(e) : null, ["state"] = Str(s, "vm_state"), ["uptime"] = (long)((terminated ?? now) - launched).TotalSeconds,
            });
        }
        foreach (var usage in byProject.Values)
            if (!detailed) usage.Remove("server_usages");
        if (project is not null)
        {
            var one = byProject.TryGetValue(project, out var u) ? u : new JsonObject();
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["tenant_usage"] = one });
            return;
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["tenant_usages"] = new JsonArray([.. byProject.Values]) });
    }

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);

    /// <summary>
    /// The instance usage audit of the last month completed before <paramref name="before"/> (Nova's default period).
    /// No audit task runs here (usage is counted from the records when asked), so the one host shows as not run.
    /// </summary>
    private async Task AuditLogAsync(ApiRequest r, string member, DateTime before)
    {
        Enforce(r, "admin");
        var end = new DateTime(before.Year, before.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var begin = end.AddMonths(-1);
        var log = new JsonObject
        {
            ["hosts_not_run"] = new JsonArray(_settings.HostName), ["log"] = new JsonObject(), ["num_hosts"] = 1, ["num_hosts_done"] = 0,
            ["num_hosts_not_run"] = 1, ["num_hosts_running"] = 0, ["overall_status"] = "0 of 1 hosts done. 0 errors.",
            ["period_beginning"] = begin.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
            ["period_ending"] = end.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), ["total_errors"] = 0, ["total_instances"] = 0,
        };
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { [member] = log });
    }
}
