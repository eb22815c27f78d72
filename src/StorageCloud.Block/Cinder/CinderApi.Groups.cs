using System.Text.Json.Nodes;
using StorageCloud.Block.Devices;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

/// <summary>
/// Generic volume groups (3.13+): volumes of the group's types, managed together. A group made from another group
/// clones each of its volumes (a new layer over each frozen one); a group made from a group snapshot makes each volume
/// over its member snapshot's layer; no data is copied either way.
/// </summary>
public sealed partial class CinderApi
{
    private static readonly ApiVersion GroupsVersion = new(3, 13);

    private void MapGroups()
    {
        Project("GET", "/groups", r => ListGroupsAsync(r, detail: false));
        Project("GET", "/groups/detail", r => ListGroupsAsync(r, detail: true));
        Project("POST", "/groups", CreateGroupAsync);
        Project("POST", "/groups/action", CreateGroupFromSourceAsync);
        Project("GET", "/groups/{id}", ShowGroupAsync);
        Project("PUT", "/groups/{id}", UpdateGroupAsync);
        Project("POST", "/groups/{id}/action", GroupActionAsync);
        MapGroupSnapshots();
        MapGroupTypes();
    }

    private async Task<GroupRow> FindGroupAsync(ApiRequest r, string id)
    {
        RequireVersion(r, GroupsVersion, "Groups");
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<GroupRow>(guid.ToString("D")) : null;
        if (row is null || !Visible(r, row.ProjectId)) throw ApiError.NotFound($"Group {id} could not be found.");
        return row;
    }

    private static List<string> TypesOf(GroupRow group) =>
        (JsonNode.Parse(group.VolumeTypes) as JsonArray ?? []).Select(t => t!.GetValue<string>()).ToList();

    private async Task<JsonObject> GroupViewAsync(ApiRequest r, GroupRow row)
    {
        var view = new JsonObject
        {
            ["id"] = row.Id,
            ["name"] = row.Name,
            ["description"] = row.Description,
            ["status"] = row.Status,
            ["availability_zone"] = row.AvailabilityZone,
            ["created_at"] = row.CreatedAt,
            ["group_type"] = row.GroupTypeId,
            ["volume_types"] = new JsonArray([.. TypesOf(row).Select(t => (JsonNode)t)]),
        };
        if (Version(r).AtLeast(new ApiVersion(3, 14)))
        {
            view["group_snapshot_id"] = row.GroupSnapshotId;
            view["source_group_id"] = row.SourceGroupId;
        }
        if (Version(r).AtLeast(new ApiVersion(3, 25)) && r.Query("list_volume") is "true" or "True" or "1")
            view["volumes"] = new JsonArray([.. (await _store.ListAsync<VolumeRow>(("group_id", row.Id))).Select(v => (JsonNode)v.Id)]);
        if (Version(r).AtLeast(new ApiVersion(3, 38))) view["replication_status"] = "disabled";
        return view;
    }

    private async Task ListGroupsAsync(ApiRequest r, bool detail)
    {
        Enforce(r, "read");
        RequireVersion(r, GroupsVersion, "Groups");
        var rows = await _store.ListAsync<GroupRow>(("project_id", AllTenants(r) ? r.Query("project_id") : ProjectOf(r)));
        var items = new JsonArray();
        foreach (var row in rows.OrderByDescending(g => g.CreatedAt, StringComparer.Ordinal))
            items.Add(detail ? await GroupViewAsync(r, row) : new JsonObject { ["id"] = row.Id, ["name"] = row.Name });
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["groups"] = items });
    }

    private async Task ShowGroupAsync(ApiRequest r)
    {
        Enforce(r, "read");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["group"] = await GroupViewAsync(r, await FindGroupAsync(r, r.Args[1])) });
    }

    private GroupRow NewGroup(ApiRequest r, JsonObject body, string groupTypeId, List<string> volumeTypes) => new()
    {
        Id = Guid.NewGuid().ToString("D"),
        ProjectId = ProjectOf(r),
        UserId = Me(r).UserId,
        Name = ShortString(body, "name", "group") ?? "",
        Description = JsonBody.OptionalString(body, "description", "group") ?? "",
        GroupTypeId = groupTypeId,
        VolumeTypes = new JsonArray([.. volumeTypes.Select(t => (JsonNode)t)]).ToJsonString(),
        CreatedAt = VolumeManager.Now(),
    };

    private async Task CreateGroupAsync(ApiRequest r)
    {
        Enforce(r, "write");
        RequireVersion(r, GroupsVersion, "Groups");
        var body = await BodyAsync(r, "group");
        var groupType = await FindGroupTypeAsync(r, JsonBody.OptionalString(body, "group_type", "group")
            ?? throw ApiError.BadRequest("Invalid input received: group_type must be provided to create group."));
        if (body["volume_types"] is not JsonArray { Count: > 0 } names)
            throw ApiError.BadRequest("Invalid input received: volume_types must be provided to create group.");
        var types = new List<string>();
        foreach (var name in names)
        {
            var text = name is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw ApiError.BadRequest("Invalid input received: volume_types must be strings.");
            types.Add((await ResolveTypeAsync(r, text)).Id);
        }
        var zone = JsonBody.OptionalString(body, "availability_zone", "group") ?? "nova";
        if (zone != "nova") throw ApiError.BadRequest($"Invalid input received: Availability zone '{zone}' is invalid.");
        var group = NewGroup(r, body, groupType.Id, types);
        await _store.InsertAsync(group);
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["group"] = new JsonObject { ["id"] = group.Id, ["name"] = group.Name } });
    }

    /// <summary>POST /groups/action {"create-from-src": {source_group_id | group_snapshot_id}} (3.14+).</summary>
    private async Task CreateGroupFromSourceAsync(ApiRequest r)
    {
        Enforce(r, "write");
        RequireVersion(r, new ApiVersion(3, 14), "Groups from a source");
        var body = await BodyAsync(r, "create-from-src");
        var sourceId = JsonBody.OptionalString(body, "source_group_id", "create-from-src");
        var snapshotId = JsonBody.OptionalString(body, "group_snapshot_id", "create-from-src");
        if ((sourceId is null) == (snapshotId is null))
            throw ApiError.BadRequest("Invalid input received: Either 'group_snapshot_id' or 'source_group_id' must be provided to create group from source.");
        // Each new volume is (the layer to clone, the volume it copies the attributes of).
        var members = new List<(Func<Task<string>> Parent, VolumeRow Like, string? SnapshotId)>();
        GroupRow template;
        if (sourceId is not null)
        {
            template = await FindGroupAsync(r, sourceId);
            foreach (var volume in await _store.ListAsync<VolumeRow>(("group_id", template.Id)))
                members.Add((() => _manager.FreezeAsync(volume, r.Context.RequestAborted), volume, null));
        }
        else
        {
            var groupSnapshot = await FindGroupSnapshotAsync(r, snapshotId!);
            if (groupSnapshot.Status != "available") throw ApiError.BadRequest($"Invalid group snapshot: group snapshot {groupSnapshot.Id} is {groupSnapshot.Status}, not available.");
            template = await _store.GetAsync<GroupRow>(groupSnapshot.GroupId) ?? throw ApiError.NotFound($"Group {groupSnapshot.GroupId} could not be found.");
            foreach (var snapshot in await _store.ListAsync<SnapshotRow>(("group_snapshot_id", groupSnapshot.Id)))
            {
                var like = await _store.GetAsync<VolumeRow>(snapshot.VolumeId) ?? new VolumeRow { Size = snapshot.Size };
                members.Add((() => Task.FromResult(snapshot.LayerId), like, snapshot.Id));
            }
        }
        var group = NewGroup(r, body, template.GroupTypeId, TypesOf(template));
        if (sourceId is not null) group.SourceGroupId = sourceId;
        else group.GroupSnapshotId = snapshotId;
        await _quotaGate.WaitAsync();
        try
        {
            await CheckQuotaAsync(r, group.ProjectId, volumes: members.Count, gigabytes: members.Sum(m => Gigabytes(m.Like.Size)));
            await _store.InsertAsync(group);
            foreach (var (parent, like, snapshot) in members)
            {
                var volume = new VolumeRow
                {
                    ProjectId = group.ProjectId,
                    UserId = Me(r).UserId,
                    Name = like.Name,
                    Size = like.Size,
                    VolumeType = like.VolumeType,
                    Bootable = like.Bootable,
                    GroupId = group.Id,
                    SnapshotId = snapshot,
                    SourceVolid = snapshot is null ? like.Id : null,
                };
                try
                {
                    await _manager.CreateAsync(volume, await parent());
                }
                catch (BlockDeviceException e)
                {
                    // The volumes made so far stay in the group, which says it is in error; deleting it removes them.
                    group.Status = "error";
                    await _store.UpdateAsync(group);
                    throw ApiError.BadRequest($"Invalid group: volume {like.Id} of the source could not be cloned: {e.Message}");
                }
            }
        }
        finally
        {
            _quotaGate.Release();
        }
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["group"] = new JsonObject { ["id"] = group.Id, ["name"] = group.Name } });
    }

    /// <summary>PUT /groups/{id}: name, description, and volumes added or removed (comma-separated ids).</summary>
    private async Task UpdateGroupAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var group = await FindGroupAsync(r, r.Args[1]);
        var body = await BodyAsync(r, "group");
        var add = Ids(JsonBody.OptionalString(body, "add_volumes", "group"));
        var remove = Ids(JsonBody.OptionalString(body, "remove_volumes", "group"));
        var name = ShortString(body, "name", "group");
        var description = JsonBody.OptionalString(body, "description", "group");
        if (name is null && description is null && add.Count == 0 && remove.Count == 0)
            throw ApiError.BadRequest("Invalid input received: Name, description, add_volumes, and remove_volumes can not be all empty in the request body.");
        if (group.Status != "available") throw ApiError.BadRequest($"Invalid group: Group {group.Id} status must be available, but current status is: {group.Status}.");
        var types = TypesOf(group);
        var changes = new List<VolumeRow>();
        foreach (var id in add)
        {
            var volume = await FindVolumeAsync(r, id);
            if (volume.ProjectId != group.ProjectId || volume.GroupId is not null || volume.Status is not ("available" or "in-use"))
                throw ApiError.BadRequest($"Invalid volume: Cannot add volume {id} to group {group.Id}: it is in another group or project, or not available or in-use.");
            if (!types.Contains((await ResolveTypeAsync(r, volume.VolumeType.Length > 0 ? volume.VolumeType : null)).Id))
                throw ApiError.BadRequest($"Invalid volume: Cannot add volume {id} to group {group.Id}: its volume type is not one of the group's.");
            volume.GroupId = group.Id;
            changes.Add(volume);
        }
        foreach (var id in remove)
        {
            var volume = await FindVolumeAsync(r, id);
            if (volume.GroupId != group.Id) throw ApiError.BadRequest($"Invalid volume: Cannot remove volume {id} from group {group.Id}: it is not in the group.");
            volume.GroupId = null;
            changes.Add(volume);
        }
        foreach (var volume in changes)
        {
            volume.UpdatedAt = VolumeManager.Now();
            await _store.UpdateAsync(volume);
        }
        if (name is not null) group.Name = name;
        if (description is not null) group.Description = description;
        await _store.UpdateAsync(group);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private static List<string> Ids(string? list) =>
        list is null ? [] : [.. list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>POST /groups/{id}/action: delete (with its volumes when asked) or reset_status (admin).</summary>
    private async Task GroupActionAsync(ApiRequest r)
    {
        var group = await FindGroupAsync(r, r.Args[1]);
        var body = await JsonBody.ReadAsync(r.Context);
        if (body.Count != 1) throw ApiError.BadRequest("Malformed request body: an action body has exactly one key.");
        var (action, node) = body.First();
        var args = node as JsonObject ?? [];
        switch (action)
        {
            case "delete":
                Enforce(r, "write", group.ProjectId);
                await DeleteGroupAsync(group, args["delete-volumes"] is not null && Bool(args, "delete-volumes"));
                break;
            case "reset_status":
                Enforce(r, "admin", group.ProjectId);
                RequireVersion(r, new ApiVersion(3, 20), "Group status resets");
                var status = JsonBody.String(args, "status", action);
                if (status is not ("creating" or "available" or "error" or "deleting" or "error_deleting" or "updating" or "in-use"))
                    throw ApiError.BadRequest($"Invalid input received: '{status}' is not a group status.");
                group.Status = status;
                await _store.UpdateAsync(group);
                break;
            default:
                throw ApiError.BadRequest($"There is no such action: {action}");
        }
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task DeleteGroupAsync(GroupRow group, bool deleteVolumes)
    {
        var volumes = await _store.ListAsync<VolumeRow>(("group_id", group.Id));
        if (volumes.Count > 0 && !deleteVolumes)
            throw ApiError.BadRequest($"Invalid group: Group {group.Id} still contains volumes. The delete-volumes flag is required to delete it.");
        if ((await _store.ListAsync<GroupSnapshotRow>(("group_id", group.Id))).Count > 0)
            throw ApiError.BadRequest($"Invalid group: Group {group.Id} has existing group snapshots.");
        // Every volume must be deletable before any is deleted, so a refusal leaves the group whole.
        foreach (var volume in volumes)
        {
            if (!Deletable.Contains(volume.Status) || (await _store.ListAsync<SnapshotRow>(("volume_id", volume.Id))).Count > 0
                || (await _store.ListAsync<VolumeAttachmentRow>(("volume_id", volume.Id), ("status", "attached"))).Count > 0)
                throw ApiError.BadRequest($"Invalid group: volume {volume.Id} of group {group.Id} is {volume.Status}, attached or has snapshots.");
        }
        foreach (var volume in volumes) await DeleteVolumeRowAsync(volume, cascade: false, force: false);
        await _store.DeleteAsync<GroupRow>(group.Id);
    }
}
