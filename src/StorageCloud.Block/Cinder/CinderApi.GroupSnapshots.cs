using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

/// <summary>Group snapshots (3.14+): a snapshot of each of a group's volumes (each a frozen layer), taken and deleted together.</summary>
public sealed partial class CinderApi
{
    private static readonly ApiVersion GroupSnapshotsVersion = new(3, 14);

    private void MapGroupSnapshots()
    {
        Project("GET", "/group_snapshots", r => ListGroupSnapshotsAsync(r, detail: false));
        Project("GET", "/group_snapshots/detail", r => ListGroupSnapshotsAsync(r, detail: true));
        Project("POST", "/group_snapshots", CreateGroupSnapshotAsync);
        Project("GET", "/group_snapshots/{id}", ShowGroupSnapshotAsync);
        Project("DELETE", "/group_snapshots/{id}", DeleteGroupSnapshotAsync);
        Project("POST", "/group_snapshots/{id}/action", GroupSnapshotActionAsync);
    }

    private async Task<GroupSnapshotRow> FindGroupSnapshotAsync(ApiRequest r, string id)
    {
        RequireVersion(r, GroupSnapshotsVersion, "Group snapshots");
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<GroupSnapshotRow>(guid.ToString("D")) : null;
        if (row is null || !Visible(r, row.ProjectId)) throw ApiError.NotFound($"GroupSnapshot {id} could not be found.");
        return row;
    }

    private static JsonObject GroupSnapshotView(GroupSnapshotRow row) => new()
    {
        ["id"] = row.Id,
        ["name"] = row.Name,
        ["description"] = row.Description,
        ["status"] = row.Status,
        ["created_at"] = row.CreatedAt,
        ["group_id"] = row.GroupId,
        ["group_type_id"] = row.GroupTypeId,
    };

    private async Task ListGroupSnapshotsAsync(ApiRequest r, bool detail)
    {
        Enforce(r, "read");
        RequireVersion(r, GroupSnapshotsVersion, "Group snapshots");
        var rows = await _store.ListAsync<GroupSnapshotRow>(("project_id", AllTenants(r) ? r.Query("project_id") : ProjectOf(r)));
        var items = new JsonArray();
        foreach (var row in rows.OrderByDescending(g => g.CreatedAt, StringComparer.Ordinal))
            items.Add(detail ? GroupSnapshotView(row) : new JsonObject { ["id"] = row.Id, ["name"] = row.Name });
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["group_snapshots"] = items });
    }

    private async Task ShowGroupSnapshotAsync(ApiRequest r)
    {
        Enforce(r, "read");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["group_snapshot"] = GroupSnapshotView(await FindGroupSnapshotAsync(r, r.Args[1])) });
    }

    private async Task CreateGroupSnapshotAsync(ApiRequest r)
    {
        Enforce(r, "write");
        RequireVersion(r, GroupSnapshotsVersion, "Group snapshots");
        var body = await BodyAsync(r, "group_snapshot");
        var group = await FindGroupAsync(r, JsonBody.OptionalString(body, "group_id", "group_snapshot") ?? "None");
        if (group.Status != "available") throw ApiError.BadRequest($"Invalid group: Group {group.Id} status must be available, but current status is: {group.Status}.");
        var volumes = await _store.ListAsync<VolumeRow>(("group_id", group.Id));
        if (volumes.Count == 0) throw ApiError.BadRequest($"Invalid group: Source group {group.Id} is empty. No group snapshot will be created.");
        foreach (var volume in volumes)
        {
            if (volume.Status is not ("available" or "in-use"))
                throw ApiError.BadRequest($"Invalid volume: volume {volume.Id} of group {group.Id} is {volume.Status}, not available or in-use.");
        }
        var row = new GroupSnapshotRow
        {
            Id = Guid.NewGuid().ToString("D"),
            GroupId = group.Id,
            ProjectId = group.ProjectId,
            UserId = Me(r).UserId,
            Name = ShortString(body, "name", "group_snapshot") ?? "",
            Description = JsonBody.OptionalString(body, "description", "group_snapshot") ?? "",
            GroupTypeId = group.GroupTypeId,
            Status = "creating",
            CreatedAt = VolumeManager.Now(),
        };
        await _quotaGate.WaitAsync();
        try
        {
            await CheckQuotaAsync(r, group.ProjectId, volumes: 0, gigabytes: volumes.Sum(v => Gigabytes(v.Size)), snapshots: volumes.Count);
            await _store.InsertAsync(row);
            var failed = false;
            foreach (var volume in volumes)
            {
                var snapshot = await _manager.SnapshotAsync(volume, new SnapshotRow
                {
                    ProjectId = group.ProjectId,
                    UserId = row.UserId,
                    Name = $"snapshot-{volume.Id} of {row.Name}",
                    GroupSnapshotId = row.Id,
                }, r.Context.RequestAborted);
                failed |= snapshot.Status != "available";
            }
            row.Status = failed ? "error" : "available";
            await _store.UpdateAsync(row);
        }
        finally
        {
            _quotaGate.Release();
        }
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject
        {
            ["group_snapshot"] = new JsonObject { ["id"] = row.Id, ["name"] = row.Name, ["group_type_id"] = row.GroupTypeId },
        });
    }

    private async Task DeleteGroupSnapshotAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var row = await FindGroupSnapshotAsync(r, r.Args[1]);
        if (row.Status is not ("available" or "error"))
            throw ApiError.BadRequest($"Invalid group snapshot: Group snapshot status must be available or error, and no group can be already being created from it (is {row.Status}).");
        foreach (var snapshot in await _store.ListAsync<SnapshotRow>(("group_snapshot_id", row.Id))) await _manager.DeleteSnapshotAsync(snapshot);
        await _store.DeleteAsync<GroupSnapshotRow>(row.Id);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task GroupSnapshotActionAsync(ApiRequest r)
    {
        var row = await FindGroupSnapshotAsync(r, r.Args[1]);
        Enforce(r, "admin", row.ProjectId);
        RequireVersion(r, new ApiVersion(3, 19), "Group snapshot status resets");
        var body = await JsonBody.ReadAsync(r.Context);
        if (body["reset_status"] is not JsonObject args || body.Count != 1) throw ApiError.BadRequest("Malformed request body: the only action is reset_status.");
        var status = JsonBody.String(args, "status", "reset_status");
        if (status is not ("creating" or "available" or "error" or "deleting" or "error_deleting"))
            throw ApiError.BadRequest($"Invalid input received: '{status}' is not a group snapshot status.");
        row.Status = status;
        await _store.UpdateAsync(row);
        await ApiResponses.NoContent(r.Context, 202);
    }
}
