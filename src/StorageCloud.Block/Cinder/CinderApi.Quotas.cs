using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    /// <summary>Cinder's default quotas; -1 is unlimited.</summary>
    private static readonly (string Resource, long Default)[] QuotaDefaults =
    [
        ("volumes", 10), ("gigabytes", 1000), ("snapshots", 10), ("backups", 10), ("backup_gigabytes", 1000), ("per_volume_gigabytes", -1), ("groups", 10),
    ];

    private void MapQuotas()
    {
        Project("GET", "/os-quota-sets/{target}", ShowQuotasAsync);
        Project("GET", "/os-quota-sets/{target}/defaults", r => QuotaDefaultsAsync(r));
        Project("PUT", "/os-quota-sets/{target}", UpdateQuotasAsync);
        Project("DELETE", "/os-quota-sets/{target}", DeleteQuotasAsync);
        Project("GET", "/limits", LimitsAsync);
    }

    /// <summary>The quota rows of the default quota class (the limits of every project that sets none of its own).</summary>
    private const string DefaultClass = "class:default";

    /// <summary>A project's limits: Cinder's defaults, then the default class's, then the project's own.</summary>
    private async Task<Dictionary<string, long>> LimitsOfAsync(string project)
    {
        var limits = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (resource, value) in QuotaDefaults) limits[resource] = value;
        foreach (var type in await _store.ListAsync<VolumeTypeRow>())
            foreach (var resource in new[] { "volumes", "gigabytes", "snapshots" }) limits[$"{resource}_{type.Name}"] = -1;
        foreach (var row in await _store.ListAsync<QuotaRow>(("project_id", DefaultClass))) limits[row.Resource] = row.HardLimit;
        if (project != DefaultClass)
            foreach (var row in await _store.ListAsync<QuotaRow>(("project_id", project))) limits[row.Resource] = row.HardLimit;
        return limits;
    }

    /// <summary>Stores the limits a quota_set (or quota_class_set) body gives; Cinder's 400 for unknown keys, bad values and limits below use.</summary>
    private async Task<Dictionary<string, long>> SetLimitsAsync(string project, JsonObject body, bool checkUsage)
    {
        var limits = await LimitsOfAsync(project);
        var bad = body.Select(p => p.Key).Where(k => k is not ("tenant_id" or "id" or "class_name") && !limits.ContainsKey(k)).ToList();
        if (bad.Count > 0) throw ApiError.BadRequest($"Bad key(s) in quota set: {string.Join(", ", bad)}");
        await _quotaGate.WaitAsync();
        try
        {
            var used = checkUsage ? await UsageOfAsync(project) : [];
            foreach (var (resource, node) in body)
            {
                if (resource is "tenant_id" or "id" or "class_name") continue;
                long value;
                if (node is JsonValue v && v.TryGetValue<long>(out var n)) value = n;
                else if (node is JsonValue s && s.TryGetValue<string>(out var text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)) value = parsed;
                else throw ApiError.BadRequest($"Invalid input received: Quota value for {resource} must be an integer.");
                if (value < -1 || value > int.MaxValue) throw ApiError.BadRequest($"Invalid input received: Quota limit {value} for {resource} must be -1 or between 0 and {int.MaxValue}.");
                if (value >= 0 && used.TryGetValue(resource, out var inUse) && value < inUse)
                    throw ApiError.BadRequest($"Invalid input received: Quota {resource} limit must be equal or greater than existing resources. Current usage is {inUse} and the requested limit is {value}.");
                var row = new QuotaRow { Id = $"{project}:{resource}", ProjectId = project, Resource = resource, HardLimit = value };
                if (!await _store.InsertAsync(row)) await _store.UpdateAsync(row);
                limits[resource] = value;
            }
        }
        finally
        {
            _quotaGate.Release();
        }
        return limits;
    }

    /// <summary>What a project uses: volumes, snapshots, and their GiB together (as Cinder counts gigabytes); backups and their GiB.</summary>
    private async Task<Dictionary<string, long>> UsageOfAsync(string project)
    {
        var volumes = await _store.ListAsync<VolumeRow>(("project_id", project), ("owner_instance", ""));
        var snapshots = await _store.ListAsync<SnapshotRow>(("project_id", project));
        var backups = await _store.ListAsync<Backups.BackupRow>(("project_id", project));
        long gigabytes = 0, backupGigabytes = 0;
        foreach (var b in backups) backupGigabytes += Gigabytes(b.Size);
        foreach (var v in volumes) gigabytes += Gigabytes(v.Size);
        foreach (var s in snapshots) gigabytes += Gigabytes(s.Size);
        return new Dictionary<string, long>
        {
            ["volumes"] = volumes.Count,
            ["gigabytes"] = gigabytes,
            ["snapshots"] = snapshots.Count,
            ["backups"] = backups.Count,
            ["backup_gigabytes"] = backupGigabytes,
        };
    }

    /// <summary>
    /// Refuses (413, Cinder's overLimit body) a change that would take the project past a limit. Callers hold
    /// <see cref="_quotaGate"/> until the change is recorded, so two requests cannot both take the last unit.
    /// </summary>
    private async Task CheckQuotaAsync(ApiRequest r, string project, long volumes, long gigabytes, long snapshots = 0)
    {
        var limits = await LimitsOfAsync(project);
        var usage = await UsageOfAsync(project);
        ApiError Over(string message)
        {
            r.Context.Response.Headers.RetryAfter = "0";
            return new ApiError(413, message);
        }
        if (volumes > 0 && limits["volumes"] >= 0 && usage["volumes"] + volumes > limits["volumes"])
            throw Over($"VolumeLimitExceeded: Maximum number of volumes allowed ({limits["volumes"]}) exceeded for quota 'volumes'.");
        if (snapshots > 0 && limits["snapshots"] >= 0 && usage["snapshots"] + snapshots > limits["snapshots"])
            throw Over($"SnapshotLimitExceeded: Maximum number of snapshots allowed ({limits["snapshots"]}) exceeded for quota 'snapshots'.");
        if (volumes > 0 && limits["per_volume_gigabytes"] >= 0 && gigabytes > limits["per_volume_gigabytes"])
            throw Over($"VolumeSizeExceedsLimit: Requested volume size {gigabytes}G is larger than maximum allowed limit {limits["per_volume_gigabytes"]}G.");
        if (gigabytes > 0 && limits["gigabytes"] >= 0 && usage["gigabytes"] + gigabytes > limits["gigabytes"])
            throw Over($"VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested {gigabytes}G, quota is {limits["gigabytes"]}G and {usage["gigabytes"]}G has been consumed.");
    }

    /// <summary>The target project of a quota route: a caller's own, or any for an admin (403 otherwise).</summary>
    private static string QuotaTarget(ApiRequest r, bool write)
    {
        var target = r.Args[1];
        if (write) Enforce(r, "admin");
        else if (target != Me(r).ProjectId) Enforce(r, "admin");
        else Enforce(r, "read");
        return target;
    }

    private async Task ShowQuotasAsync(ApiRequest r)
    {
        var target = QuotaTarget(r, write: false);
        var usage = r.Query("usage") is { } u && u.ToLowerInvariant() is "true" or "1";
        var limits = await LimitsOfAsync(target);
        var used = await UsageOfAsync(target);
        var set = new JsonObject { ["id"] = target };
        foreach (var (resource, limit) in limits)
        {
            if (!usage)
            {
                set[resource] = limit;
                continue;
            }
            set[resource] = new JsonObject
            {
                ["limit"] = limit,
                ["in_use"] = used.GetValueOrDefault(resource),
                ["reserved"] = 0,
                ["allocated"] = 0,
            };
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota_set"] = set });
    }

    private async Task QuotaDefaultsAsync(ApiRequest r)
    {
        QuotaTarget(r, write: false);
        var set = new JsonObject { ["id"] = r.Args[1] };
        foreach (var (resource, value) in await LimitsOfAsync(DefaultClass)) set[resource] = value;
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota_set"] = set });
    }

    private async Task UpdateQuotasAsync(ApiRequest r)
    {
        var target = QuotaTarget(r, write: true);
        var limits = await SetLimitsAsync(target, await BodyAsync(r, "quota_set"), checkUsage: true);
        var set = new JsonObject();
        foreach (var (resource, limit) in limits) set[resource] = limit;
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["quota_set"] = set });
    }

    private async Task DeleteQuotasAsync(ApiRequest r)
    {
        var target = QuotaTarget(r, write: true);
        await _store.ExecuteAsync("DELETE FROM quotas WHERE project_id = @target", new { target });
        await ApiResponses.NoContent(r.Context, 200);
    }

    private async Task LimitsAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var project = ProjectOf(r);
        var limits = await LimitsOfAsync(project);
        var used = await UsageOfAsync(project);
        var absolute = new JsonObject
        {
            ["maxTotalVolumes"] = limits["volumes"],
            ["maxTotalSnapshots"] = limits["snapshots"],
            ["maxTotalVolumeGigabytes"] = limits["gigabytes"],
            ["maxTotalBackups"] = limits["backups"],
            ["maxTotalBackupGigabytes"] = limits["backup_gigabytes"],
            ["totalVolumesUsed"] = used["volumes"],
            ["totalGigabytesUsed"] = used["gigabytes"],
            ["totalSnapshotsUsed"] = used["snapshots"],
            ["totalBackupsUsed"] = 0,
            ["totalBackupGigabytesUsed"] = 0,
        };
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["limits"] = new JsonObject { ["rate"] = new JsonArray(), ["absolute"] = absolute } });
    }
}
