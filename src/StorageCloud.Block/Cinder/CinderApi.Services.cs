using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

/// <summary>
/// The volume service as Cinder's operators see it: one scheduler host and one volume backend (this gateway over the
/// storage nodes' chunks), their services (list, enable/disable with a reason, freeze/thaw), hosts and capabilities.
/// </summary>
public sealed partial class CinderApi
{
    /// <summary>The scheduler's host.</summary>
    public const string SchedulerHost = "storagecloud";

    /// <summary>The volume backend's host, as Cinder names it: host@backend.</summary>
    public const string BackendHost = SchedulerHost + "@" + BackendName;

    /// <summary>The backend's one pool: host@backend#pool.</summary>
    public const string PoolHost = BackendHost + "#chunks";

    /// <summary>The backend's capabilities that volume type extra specs may ask for (the scheduler's capability filter).</summary>
    private const string BackendName = "nbd", StorageProtocol = "nbd", VendorName = "StorageCloud", DriverVersion = "1.0";

    private static readonly (string Binary, string Host)[] ServiceHosts = [("cinder-scheduler", SchedulerHost), ("cinder-volume", BackendHost)];

    private void MapServices()
    {
        Project("GET", "/os-services", ServicesAsync);
        Project("PUT", "/os-services/{action}", ServiceActionAsync);
        Project("GET", "/os-hosts", HostsAsync);
        Project("GET", "/os-hosts/{host}", ShowHostAsync);
        Project("GET", "/capabilities/{host}", CapabilitiesAsync);
    }

    private async Task<ServiceStateRow> ServiceStateAsync(string binary) =>
        await _store.GetAsync<ServiceStateRow>(binary) ?? new ServiceStateRow { Id = binary, UpdatedAt = _startedAt };

    private async Task ServicesAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var services = new JsonArray();
        foreach (var (binary, host) in ServiceHosts)
        {
            if (r.Query("binary") is { } wanted && wanted != binary) continue;
            // A host filter names the host with or without its backend ("storagecloud" matches "storagecloud@nbd").
            if (r.Query("host") is { } wantedHost && wantedHost != host && !host.StartsWith(wantedHost + "@", StringComparison.Ordinal)) continue;
            var state = await ServiceStateAsync(binary);
            var service = new JsonObject
            {
                ["binary"] = binary,
                ["host"] = host,
                ["zone"] = "nova",
                ["status"] = state.Disabled != 0 ? "disabled" : "enabled",
                ["state"] = "up",
                ["updated_at"] = VolumeManager.Now(),
                ["disabled_reason"] = state.DisabledReason,
            };
            if (Version(r).AtLeast(new ApiVersion(3, 7))) service["cluster"] = null;
            if (binary == "cinder-volume") service["frozen"] = state.Frozen != 0;
            if (Version(r).AtLeast(new ApiVersion(3, 49))) service["backend_state"] = binary == "cinder-volume" ? "up" : null;
            services.Add(service);
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["services"] = services });
    }

    /// <summary>PUT /os-services/{enable|disable|disable-log-reason|freeze|thaw}.</summary>
    private async Task ServiceActionAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var action = r.Args[1];
        var body = await JsonBody.ReadAsync(r.Context);
        var host = JsonBody.OptionalString(body, "host", "service") ?? throw ApiError.BadRequest("Invalid input received: host must be specified.");
        if (action is "freeze" or "thaw")
        {
            if (host != BackendHost) throw ApiError.BadRequest($"Invalid input received: host {host} is not a volume backend host (it is {BackendHost}).");
            var backend = await ServiceStateAsync("cinder-volume");
            backend.Frozen = action == "freeze" ? 1 : 0;
            await SaveServiceStateAsync(backend);
            await ApiResponses.NoContent(r.Context, 200);
            return;
        }
        if (action is not ("enable" or "disable" or "disable-log-reason")) throw ApiError.NotFound($"Unknown action {action}.");
        var binary = JsonBody.OptionalString(body, "binary", "service") ?? throw ApiError.BadRequest("Invalid input received: binary must be specified.");
        if (!ServiceHosts.Any(s => s.Host == host || s.Host.StartsWith(host + "@", StringComparison.Ordinal))) throw ApiError.NotFound($"Host {host} could not be found.");
        if (!ServiceHosts.Any(s => s.Binary == binary && (s.Host == host || s.Host.StartsWith(host + "@", StringComparison.Ordinal))))
            throw ApiError.NotFound($"Service {binary} could not be found on host {host}.");
        var state = await ServiceStateAsync(binary);
        if (action == "disable-log-reason")
        {
            var reason = JsonBody.OptionalString(body, "disabled_reason", "service");
            if (string.IsNullOrWhiteSpace(reason) || reason.Length > 255)
                throw ApiError.BadRequest("Invalid input received: Disabled reason contains invalid characters or is too long");
            state.DisabledReason = reason;
        }
        else if (action == "enable")
        {
            state.DisabledReason = null;
        }
        state.Disabled = action == "enable" ? 0 : 1;
        await SaveServiceStateAsync(state);
        var answer = new JsonObject
        {
            ["host"] = host,
            ["service"] = binary,
            ["binary"] = binary,
            ["status"] = state.Disabled != 0 ? "disabled" : "enabled",
            ["disabled"] = state.Disabled != 0,
        };
        if (action == "disable-log-reason") answer["disabled_reason"] = state.DisabledReason;
        await ApiResponses.WriteJsonAsync(r.Context, 200, answer);
    }

    private async Task SaveServiceStateAsync(ServiceStateRow state)
    {
        state.UpdatedAt = VolumeManager.Now();
        // UpdateAsync is true for a row that is not there yet: insert first.
        if (!await _store.InsertAsync(state)) await _store.UpdateAsync(state);
    }

    /// <summary>GET /os-hosts (admin): the scheduler and the volume backend as Cinder's hosts.</summary>
    private async Task HostsAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var hosts = new JsonArray();
        foreach (var (binary, host) in ServiceHosts)
        {
            var state = await ServiceStateAsync(binary);
            hosts.Add(new JsonObject
            {
                ["service-status"] = "available",
                ["service"] = binary,
                ["zone"] = "nova",
                ["service-state"] = state.Disabled != 0 ? "disabled" : "enabled",
                ["host_name"] = host,
                ["last-update"] = VolumeManager.Now(),
            });
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["hosts"] = hosts });
    }

    /// <summary>GET /os-hosts/{host} (admin): the volume backend's totals, then each project's, as Cinder counts them (strings).</summary>
    private async Task ShowHostAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var host = r.Args[1];
        if (host != BackendHost) throw ApiError.NotFound($"Host {host} could not be found.");
        var volumes = await _store.ListAsync<VolumeRow>();
        var snapshots = await _store.ListAsync<SnapshotRow>();
        var entries = new JsonArray(HostResource(host, "(total)", volumes, snapshots));
        foreach (var project in volumes.Select(v => v.ProjectId).Concat(snapshots.Select(s => s.ProjectId)).Distinct().Order(StringComparer.Ordinal))
            entries.Add(HostResource(host, project, volumes.Where(v => v.ProjectId == project).ToList(), snapshots.Where(s => s.ProjectId == project).ToList()));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["host"] = entries });
    }

    private static JsonObject HostResource(string host, string project, List<VolumeRow> volumes, List<SnapshotRow> snapshots) => new()
    {
        ["resource"] = new JsonObject
        {
            ["volume_count"] = volumes.Count.ToString(CultureInfo.InvariantCulture),
            ["total_volume_gb"] = volumes.Sum(v => Gigabytes(v.Size)).ToString(CultureInfo.InvariantCulture),
            ["total_snapshot_gb"] = snapshots.Sum(s => Gigabytes(s.Size)).ToString(CultureInfo.InvariantCulture),
            ["project"] = project,
            ["host"] = host,
            ["snapshot_count"] = snapshots.Count.ToString(CultureInfo.InvariantCulture),
        },
    };

    /// <summary>GET /capabilities/{host} (admin): what the backend reports, for the pool's host with or without its pool.</summary>
    private static Task CapabilitiesAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var host = r.Args[1];
        if (host is not (BackendHost or PoolHost)) throw ApiError.NotFound($"Host {host} could not be found.");
        static JsonObject Property(string title, string description, string type) =>
            new() { ["title"] = title, ["description"] = description, ["type"] = type };
        var capabilities = new JsonObject
        {
            ["namespace"] = $"OS::Storage::Capabilities::{BackendHost}",
            ["vendor_name"] = VendorName,
            ["volume_backend_name"] = BackendName,
            ["pool_name"] = null,
            ["driver_version"] = DriverVersion,
            ["storage_protocol"] = StorageProtocol,
            ["display_name"] = null,
            ["description"] = null,
            ["visibility"] = null,
            ["replication_targets"] = new JsonArray(),
            ["properties"] = new JsonObject
            {
                ["thin_provisioning"] = Property("Thin Provisioning", "Volumes cost only the chunks written.", "boolean"),
                ["compression"] = Property("Compression", "The storage nodes do not compress volume chunks.", "boolean"),
            },
        };
        return ApiResponses.WriteJsonAsync(r.Context, 200, capabilities);
    }

    /// <summary>
    /// The scheduler's capability filter: the extra specs of a type that ask for a capability this backend reports
    /// (volume_backend_name, storage_protocol, vendor_name, bare or scoped "capabilities:") must match it; other specs are
    /// free-form. Returns the first spec that does not match, or null when the backend can take the volume.
    /// </summary>
    private static string? UnsatisfiedSpec(VolumeTypeRow type)
    {
        foreach (var (key, value) in ParseObject(type.ExtraSpecs))
        {
            var name = key.StartsWith("capabilities:", StringComparison.Ordinal) ? key["capabilities:".Length..] : key;
            var have = name switch
            {
                "volume_backend_name" => BackendName,
                "storage_protocol" => StorageProtocol,
                "vendor_name" => VendorName,
                _ => null,
            };
            var want = value?.ToString();
            if (have is null || want is null) continue;
            // Cinder's operators: "<in> x" (substring) and "<or> a <or> b"; anything else is compared whole.
            var ok = want.StartsWith("<in> ", StringComparison.Ordinal) ? have.Contains(want[5..].Trim(), StringComparison.Ordinal)
                : want.StartsWith("<or> ", StringComparison.Ordinal) ? want.Split("<or>", StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains(have)
                : string.Equals(want.Trim(), have, StringComparison.OrdinalIgnoreCase);
            if (!ok) return $"{key}={want}";
        }
        return null;
    }
}
