using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    private static readonly string[] SnapshotSortKeys = ["created_at", "id", "name", "size", "status", "updated_at", "display_name"];

    private void MapSnapshots()
    {
        Project("GET", "/snapshots", r => ListSnapshotsAsync(r, detail: false));
        Project("GET", "/snapshots/detail", r => ListSnapshotsAsync(r, detail: true));
        Project("POST", "/snapshots", CreateSnapshotAsync);
        Project("GET", "/snapshots/{id}", ShowSnapshotAsync);
        Project("PUT", "/snapshots/{id}", UpdateSnapshotAsync);
        Project("DELETE", "/snapshots/{id}", DeleteSnapshotAsync);
        Project("POST", "/snapshots/{id}/action", SnapshotActionAsync);
        MapMetadata("snapshots", async r =>
        {
            var row = await FindSnapshotAsync(r);
            return (row.ProjectId, row.Metadata, json =>
            {
                row.Metadata = json;
                row.UpdatedAt = VolumeManager.Now();
                return _store.UpdateAsync(row);
            });
        });
    }

    private async Task<SnapshotRow> FindSnapshotAsync(ApiRequest r, string? id = null)
    {
        id ??= r.Args[1];
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<SnapshotRow>(guid.ToString("D")) : null;
        if (row is null || !Visible(r, row.ProjectId)) throw ApiError.NotFound($"Snapshot {id} could not be found.");
        return row;
    }

    /// <summary>A snapshot as Cinder shows it; <paramref name="extended"/> (show and the detailed list) adds its extension's progress and project.</summary>
    private static JsonObject SnapshotView(ApiRequest r, SnapshotRow row, bool extended = true)
    {
        var view = new JsonObject
        {
            ["id"] = row.Id,
            ["name"] = row.Name,
            ["description"] = row.Description,
            ["volume_id"] = row.VolumeId,
            ["status"] = row.Status,
            ["size"] = Gigabytes(row.Size),
            ["created_at"] = row.CreatedAt,
            ["updated_at"] = Timestamp(row.UpdatedAt),
            ["metadata"] = MetadataView(row.Metadata),
        };
        if (extended)
        {
            view["os-extended-snapshot-attributes:progress"] = row.Progress.Length > 0 ? row.Progress : row.Status == "available" ? "100%" : "0%";
            view["os-extended-snapshot-attributes:project_id"] = row.ProjectId;
        }
        var version = Version(r);
        if (version.AtLeast(new ApiVersion(3, 14))) view["group_snapshot_id"] = row.GroupSnapshotId;
        if (version.AtLeast(new ApiVersion(3, 41))) view["user_id"] = row.UserId;
        return view;
    }

    private async Task ListSnapshotsAsync(ApiRequest r, bool detail)
    {
        Enforce(r, "read");
        var rows = await _store.ListAsync<SnapshotRow>(("project_id", AllTenants(r) ? r.Query("project_id") : ProjectOf(r)),
            ("status", r.Query("status")), ("volume_id", r.Query("volume_id")));
        IEnumerable<SnapshotRow> selected = rows;
        if ((r.Query("name") ?? r.Query("display_name")) is { } name) selected = selected.Where(s => s.Name == name);
        var sort = Pagination.Sort(r.Context.Request, SnapshotSortKeys, new SortKey("created_at", true));
        var sorted = Sorted(selected.ToList(), sort, (s, key) => key switch
        {
            "id" => s.Id,
            "name" or "display_name" => s.Name,
            "size" => s.Size.ToString("D20", System.Globalization.CultureInfo.InvariantCulture),
            "status" => s.Status,
            "updated_at" => s.UpdatedAt,
            _ => s.CreatedAt,
        });
        var (page, more) = Pagination.Page(sorted, s => s.Id, r.Query("marker"), Pagination.Limit(r.Context.Request, 1000),
            m => ApiError.NotFound($"Marker {m} could not be found."), Pagination.Offset(r.Context.Request));
        var items = new JsonArray();
        foreach (var row in page)
        {
            items.Add(SnapshotView(r, row, extended: detail));
        }
        var result = new JsonObject { ["snapshots"] = items };
        if (more) result["snapshots_links"] = Pagination.NextLinks(r.Context.Request, r.HostUrl, page[^1].Id);
        await ApiResponses.WriteJsonAsync(r.Context, 200, result);
    }

    private async Task CreateSnapshotAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "snapshot");
        // A missing volume id is a volume that cannot be found, as Cinder answers.
        var volume = await FindVolumeAsync(r, JsonBody.OptionalString(body, "volume_id", "snapshot") ?? "None");
        var force = body["force"] is not null && Bool(body, "force");
        if (volume.Status != "available" && !(force && volume.Status == "in-use"))
            throw ApiError.BadRequest($"Invalid volume: Volume {volume.Id} status must be available{(volume.Status == "in-use" ? " (use force for an in-use volume)" : "")}, but current status is: {volume.Status}.");
        var snapshot = new SnapshotRow
        {
            ProjectId = volume.ProjectId,
            UserId = Me(r).UserId,
            Name = ShortString(body, "name", "snapshot") ?? ShortString(body, "display_name", "snapshot") ?? "",
            Description = JsonBody.OptionalString(body, "description", "snapshot") ?? JsonBody.OptionalString(body, "display_description", "snapshot") ?? "",
            Metadata = Json(Metadata(body, "metadata")),
        };
        await _quotaGate.WaitAsync();
        try
        {
            await CheckQuotaAsync(r, volume.ProjectId, volumes: 0, gigabytes: Gigabytes(volume.Size), snapshots: 1);
            snapshot = await _manager.SnapshotAsync(volume, snapshot, r.Context.RequestAborted);
        }
        finally
        {
            _quotaGate.Release();
        }
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["snapshot"] = SnapshotView(r, snapshot, extended: false) });
    }

    private async Task ShowSnapshotAsync(ApiRequest r)
    {
        Enforce(r, "read");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["snapshot"] = SnapshotView(r, await FindSnapshotAsync(r)) });
    }

    private async Task UpdateSnapshotAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var row = await FindSnapshotAsync(r);
        var body = await BodyAsync(r, "snapshot");
        if (body.Count == 0) throw ApiError.BadRequest("Invalid input received: a snapshot update needs name or description.");
        if ((ShortString(body, "name", "snapshot") ?? ShortString(body, "display_name", "snapshot")) is { } name) row.Name = name;
        if ((JsonBody.OptionalString(body, "description", "snapshot") ?? JsonBody.OptionalString(body, "display_description", "snapshot")) is { } description)
            row.Description = description;
        row.UpdatedAt = VolumeManager.Now();
        await _store.UpdateAsync(row);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["snapshot"] = SnapshotView(r, row, extended: false) });
    }

    private async Task DeleteSnapshotAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var row = await FindSnapshotAsync(r);
        if (row.Status is not ("available" or "error" or "error_deleting"))
            throw ApiError.BadRequest($"Invalid snapshot: Snapshot status must be available or error (is {row.Status}).");
        if (row.GroupSnapshotId is not null)
            throw ApiError.BadRequest($"Invalid snapshot: Snapshot {row.Id} is part of group snapshot {row.GroupSnapshotId}; delete the group snapshot instead.");
        await _manager.DeleteSnapshotAsync(row);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task SnapshotActionAsync(ApiRequest r)
    {
        var row = await FindSnapshotAsync(r);
        var body = await JsonBody.ReadAsync(r.Context);
        if (body.Count != 1) throw ApiError.BadRequest("Malformed request body: an action body has exactly one key.");
        var (action, node) = body.First();
        var args = node as JsonObject ?? [];
        // os-update_snapshot_status is how the owner's client (Nova's assisted snapshots) reports progress; the rest is for admins.
        Enforce(r, action == "os-update_snapshot_status" ? "write" : "admin", row.ProjectId);
        switch (action)
        {
            case "os-update_snapshot_status":
                var next = JsonBody.String(args, "status", action);
                var allowed = row.Status switch
                {
                    "creating" => next is "creating" or "available" or "error",
                    "deleting" => next is "deleting" or "error_deleting",
                    _ => false,
                };
                if (!allowed) throw ApiError.BadRequest($"Invalid input received: Snapshot status {row.Status} not allowed to change to {next}.");
                var progress = JsonBody.OptionalString(args, "progress", action);
                if (progress is { Length: > 255 }) throw ApiError.BadRequest("Invalid input received: progress is longer than 255 characters.");
                row.Status = next;
                if (progress is not null) row.Progress = progress;
                row.UpdatedAt = VolumeManager.Now();
                await _store.UpdateAsync(row);
                break;
            case "os-reset_status":
                var status = JsonBody.String(args, "status", action);
                if (status is not ("available" or "error" or "creating" or "deleting" or "error_deleting"))
                    throw ApiError.BadRequest($"Invalid input received: '{status}' is not a snapshot status.");
                row.Status = status;
                row.Progress = "";
                row.UpdatedAt = VolumeManager.Now();
                await _store.UpdateAsync(row);
                break;
            case "os-force_delete":
                await _manager.DeleteSnapshotAsync(row);
                break;
            default:
                throw ApiError.BadRequest($"There is no such action: {action}");
        }
        await ApiResponses.NoContent(r.Context, 202);
    }
}
