using System.Text.Json.Nodes;
using StorageCloud.Compute.Records;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Quota sets, quota class sets and limits: Nova's defaults (the "default" quota class, which admins may change),
/// per-project overrides set by admins, usage counted from the records.
/// </summary>
public sealed partial class NovaApi
{
    /// <summary>The resources and their defaults; -1 is unlimited.</summary>
    private static readonly (string Name, long Default)[] QuotaDefaults =
    [
        ("instances", 10), ("cores", 20), ("ram", 51200), ("metadata_items", 128), ("injected_files", 5), ("injected_file_content_bytes", 10240),
        ("injected_file_path_bytes", 255), ("key_pairs", 100), ("server_groups", 10), ("server_group_members", 10), ("floating_ips", 10),
        ("fixed_ips", -1), ("security_groups", 10), ("security_group_rules", 20),
    ];

    private static readonly HashSet<string> NetworkQuotas = ["floating_ips", "fixed_ips", "security_groups", "security_group_rules"];
    private static readonly HashSet<string> FileQuotas = ["injected_files", "injected_file_content_bytes", "injected_file_path_bytes"];

    private void MapQuotas()
    {
        Map("GET", "/os-quota-sets/{project}", r => WriteQuotaSetAsync(r, r.Args[0], detail: false));
        Map("GET", "/os-quota-sets/{project}/detail", r => WriteQuotaSetAsync(r, r.Args[0], detail: true));
        Map("GET", "/os-quota-sets/{project}/defaults", async r =>
        {
            Enforce(r, "read");
            var set = new JsonObject { ["id"] = r.Args[0] };
            foreach (var (name, _) in QuotaDefaults)
                if (Shown(r, name)) set[name] = await ClassLimitAsync(DefaultClass, name);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota_set"] = set });
        });
        Map("PUT", "/os-quota-sets/{project}", UpdateQuotaSetAsync);
        Map("DELETE", "/os-quota-sets/{project}", async r =>
        {
            Enforce(r, "admin");
            await _store.ExecuteAsync("DELETE FROM quotas WHERE project_id = @p", new { p = r.Args[0] });
            await ApiResponses.NoContent(r.Context, 202);
        });
        Map("GET", "/os-quota-class-sets/{id}", async r =>
        {
            Enforce(r, "read");
            var set = new JsonObject { ["id"] = r.Args[0] };
            foreach (var (name, _) in QuotaDefaults)
                if (Shown(r, name, networkGoneAt: 50)) set[name] = await ClassLimitAsync(r.Args[0], name);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota_class_set"] = set });
        });
        Map("PUT", "/os-quota-class-sets/{id}", UpdateQuotaClassAsync);
        Map("GET", "/limits", LimitsAsync);
    }

    /// <summary>Resources the request's microversion still shows (network ones went in 2.36, 2.50 for quota classes; file injection in 2.57).</summary>
    private static bool Shown(ApiRequest r, string name, int networkGoneAt = 36) =>
        !(NetworkQuotas.Contains(name) && AtLeast(r, networkGoneAt)) && !(FileQuotas.Contains(name) && AtLeast(r, 57));

    /// <summary>The quota class every project's defaults come from.</summary>
    private const string DefaultClass = "default";

    /// <summary>A project's limit for a resource: its override or the default class's.</summary>
    private async Task<long> LimitAsync(string project, string resource)
    {
        var row = await _store.GetAsync<ComputeQuotaRow>(project + ":" + resource);
        return row?.HardLimit ?? await ClassLimitAsync(DefaultClass, resource);
    }

    /// <summary>A quota class's limit (stored under the project "class:NAME"), or Nova's default.</summary>
    private async Task<long> ClassLimitAsync(string quotaClass, string resource)
    {
        var row = await _store.GetAsync<ComputeQuotaRow>("class:" + quotaClass + ":" + resource);
        return row?.HardLimit ?? QuotaDefaults.First(q => q.Name == resource).Default;
    }

    /// <summary>PUT os-quota-class-sets/{class} (admins): the limits given, checked as quota sets are; 200 with the class's limits (no id, as Nova answers).</summary>
    private async Task UpdateQuotaClassAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var quotaClass = r.Args[0];
        if (quotaClass.Length is 0 or > 255) throw ApiError.BadRequest("Invalid input for field/attribute id.");
        var body = await BodyAsync(r, "quota_class_set");
        var updates = new List<(string, long)>();
        foreach (var (key, value) in body)
        {
            if (!QuotaDefaults.Any(q => q.Name == key) || !Shown(r, key, networkGoneAt: 50))
                throw ApiError.BadRequest($"Invalid input for field/attribute quota_class_set. Additional properties are not allowed ('{key}' was unexpected)");
            updates.Add((key, Count(new JsonObject { [key] = value?.DeepClone() }, key, -1, int.MaxValue, required: true)));
        }
        foreach (var (key, limit) in updates) await SaveQuotaAsync("class:" + quotaClass, key, limit);
        var set = new JsonObject();
        foreach (var (name, _) in QuotaDefaults)
            if (Shown(r, name, networkGoneAt: 50)) set[name] = await ClassLimitAsync(quotaClass, name);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota_class_set"] = set });
    }

    private async Task SaveQuotaAsync(string project, string resource, long limit)
    {
        var row = new ComputeQuotaRow { Id = project + ":" + resource, ProjectId = project, Resource = resource, HardLimit = limit };
        if (!await _store.UpdateAsync(row) || await _store.GetAsync<ComputeQuotaRow>(row.Id) is null) await _store.InsertAsync(row);
    }

    private async Task<Dictionary<string, long>> UsageAsync(string project)
    {
        var live = (await AllAsync(ServerKind, project)).Where(s => !Flag(s, "_deleted")).ToList();
        return new Dictionary<string, long>
        {
            ["instances"] = live.Count,
            ["cores"] = live.Sum(s => Long(s["flavor"]!.AsObject(), "vcpus")),
            ["ram"] = live.Sum(s => Long(s["flavor"]!.AsObject(), "ram")),
            ["server_groups"] = (await AllAsync(GroupKind, project)).Count,
            ["key_pairs"] = 0,
        };
    }

    private async Task WriteQuotaSetAsync(ApiRequest r, string project, bool detail)
    {
        Enforce(r, "read", project);
        if (project != Project(r) && !Me(r).IsAdmin) throw ApiError.Forbidden("os_compute_api:os-quota-sets:show");
        var usage = detail ? await UsageAsync(project) : [];
        var set = new JsonObject { ["id"] = project };
        foreach (var (name, _) in QuotaDefaults)
        {
            if (!Shown(r, name)) continue;
            var limit = await LimitAsync(project, name);
            set[name] = detail ? new JsonObject { ["in_use"] = usage.GetValueOrDefault(name), ["limit"] = limit, ["reserved"] = 0 } : limit;
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota_set"] = set });
    }

    private async Task UpdateQuotaSetAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var project = r.Args[0];
        var body = await BodyAsync(r, "quota_set");
        var force = JsonBody.OptionalBool(body, "force", "quota_set") ?? false;
        var usage = await UsageAsync(project);
        var updates = new List<(string, long)>();
        foreach (var (key, value) in body)
        {
            if (key == "force") continue;
            if (!QuotaDefaults.Any(q => q.Name == key) || !Shown(r, key))
                throw ApiError.BadRequest($"Invalid input for field/attribute quota_set. Additional properties are not allowed ('{key}' was unexpected)");
            var limit = Count(new JsonObject { [key] = value?.DeepClone() }, key, -1, int.MaxValue, required: true);
            if (!force && limit >= 0 && usage.GetValueOrDefault(key) > limit)
                throw ApiError.BadRequest($"Quota limit {limit} for {key} must be greater than or equal to already used and reserved {usage[key]}.");
            updates.Add((key, limit));
        }
        foreach (var (key, limit) in updates) await SaveQuotaAsync(project, key, limit);
        var set = new JsonObject();
        foreach (var (name, _) in QuotaDefaults)
            if (Shown(r, name)) set[name] = await LimitAsync(project, name);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota_set"] = set });
    }

    private async Task LimitsAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var project = Me(r).IsAdmin && r.Query("tenant_id") is { } t ? t : Project(r);
        var usage = await UsageAsync(project);
        var absolute = new JsonObject
        {
            ["maxServerMeta"] = await LimitAsync(project, "metadata_items"),
            ["maxImageMeta"] = await LimitAsync(project, "metadata_items"),
            ["maxTotalKeypairs"] = await LimitAsync(project, "key_pairs"),
            ["maxServerGroups"] = await LimitAsync(project, "server_groups"),
            ["maxServerGroupMembers"] = await LimitAsync(project, "server_group_members"),
            ["maxTotalCores"] = await LimitAsync(project, "cores"),
            ["maxTotalInstances"] = await LimitAsync(project, "instances"),
            ["maxTotalRAMSize"] = await LimitAsync(project, "ram"),
            ["totalCoresUsed"] = usage["cores"],
            ["totalInstancesUsed"] = usage["instances"],
            ["totalRAMUsed"] = usage["ram"],
            ["totalServerGroupsUsed"] = usage["server_groups"],
        };
        if (!AtLeast(r, 57))
        {
            absolute["maxPersonality"] = await LimitAsync(project, "injected_files");
            absolute["maxPersonalitySize"] = await LimitAsync(project, "injected_file_content_bytes");
        }
        if (!AtLeast(r, 36))
        {
            absolute["maxSecurityGroups"] = await LimitAsync(project, "security_groups");
            absolute["maxSecurityGroupRules"] = await LimitAsync(project, "security_group_rules");
            absolute["maxTotalFloatingIps"] = await LimitAsync(project, "floating_ips");
            absolute["totalSecurityGroupsUsed"] = 0;
            absolute["totalFloatingIpsUsed"] = 0;
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["limits"] = new JsonObject { ["rate"] = new JsonArray(), ["absolute"] = absolute } });
    }
}
