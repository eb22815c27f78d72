using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    private static readonly ApiVersion AttachmentsVersion = new(3, 27);

    private void MapAttachments()
    {
        Project("GET", "/attachments", r => ListAttachmentsAsync(r, detail: false));
        Project("GET", "/attachments/detail", r => ListAttachmentsAsync(r, detail: true));
        Project("POST", "/attachments", CreateAttachmentAsync);
        Project("GET", "/attachments/{id}", ShowAttachmentAsync);
        Project("PUT", "/attachments/{id}", UpdateAttachmentAsync);
        Project("DELETE", "/attachments/{id}", DeleteAttachmentAsync);
        Project("POST", "/attachments/{id}/action", AttachmentActionAsync);
    }

    /// <summary>The attachments API exists from 3.27; earlier versions answer 404 as Cinder's router does.</summary>
    private static void RequireAttachments(ApiRequest r)
    {
        if (!Version(r).AtLeast(AttachmentsVersion)) throw ApiError.NotFound("The resource could not be found.");
    }

    private async Task<JsonObject> AttachmentViewAsync(VolumeAttachmentRow row, bool detail)
    {
        var view = new JsonObject
        {
            ["id"] = row.Id,
            ["status"] = row.Status,
            ["instance"] = row.InstanceUuid,
            ["volume_id"] = row.VolumeId,
        };
        if (!detail) return view;
        view["attached_at"] = row.AttachTime;
        view["detached_at"] = row.DetachTime;
        view["attach_mode"] = row.AttachMode;
        view["connection_info"] = row.Connector is null ? new JsonObject()
            : await _store.GetAsync<VolumeRow>(row.VolumeId) is { } volume ? ConnectionInfo(volume, row.AttachMode) : new JsonObject();
        return view;
    }

    private async Task<VolumeAttachmentRow> FindAttachmentAsync(ApiRequest r)
    {
        RequireAttachments(r);
        var id = r.Args[1];
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<VolumeAttachmentRow>(guid.ToString("D")) : null;
        if (row is null || !Visible(r, row.ProjectId)) throw ApiError.NotFound($"Volume attachment could not be found with filter: attachment_id = {id}.");
        return row;
    }

    private async Task ListAttachmentsAsync(ApiRequest r, bool detail)
    {
        RequireAttachments(r);
        Enforce(r, "read");
        var rows = await _store.ListAsync<VolumeAttachmentRow>(("project_id", AllTenants(r) ? null : ProjectOf(r)),
            ("volume_id", r.Query("volume_id")), ("instance_uuid", r.Query("instance_id")), ("status", r.Query("status")));
        var items = new JsonArray();
        foreach (var row in rows) items.Add(await AttachmentViewAsync(row, detail));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["attachments"] = items });
    }

    private async Task CreateAttachmentAsync(ApiRequest r)
    {
        RequireAttachments(r);
        Enforce(r, "write");
        var body = await BodyAsync(r, "attachment");
        var volume = await FindVolumeAsync(r, JsonBody.String(body, "volume_uuid", "attachment"));
        var instance = JsonBody.OptionalString(body, "instance_uuid", "attachment");
        var connector = JsonBody.OptionalObject(body, "connector", "attachment");
        var mode = JsonBody.OptionalString(body, "mode", "attachment") ?? "rw";
        if (mode is not ("rw" or "ro")) throw ApiError.BadRequest("Invalid input received: Invalid attachment mode, must be 'rw' or 'ro'.");
        if (volume.Status is not ("available" or "reserved" or "in-use"))
            throw ApiError.BadRequest($"Invalid volume: Volume {volume.Id} status must be available or in-use to attach (is {volume.Status}).");
        var live = await _store.ListAsync<VolumeAttachmentRow>(("volume_id", volume.Id));
        if (live.Any(a => a.Status != "detached" && a.InstanceUuid != instance))
            throw ApiError.BadRequest($"Invalid volume: Volume {volume.Id} is attached already and is not multiattach.");
        var row = new VolumeAttachmentRow
        {
            Id = Guid.NewGuid().ToString("D"),
            VolumeId = volume.Id,
            ProjectId = volume.ProjectId,
            InstanceUuid = instance,
            AttachMode = mode,
            Status = connector is null ? "reserved" : "attaching",
        };
        if (connector is not null) await ConnectAsync(volume, row, connector);
        await _store.InsertAsync(row);
        if (volume.Status != "in-use") volume.Status = connector is null ? "reserved" : "attaching";
        volume.UpdatedAt = VolumeManager.Now();
        await _store.UpdateAsync(volume);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["attachment"] = await AttachmentViewAsync(row, detail: true) });
    }

    private async Task ConnectAsync(VolumeRow volume, VolumeAttachmentRow row, JsonObject connector)
    {
        await AllowHostAsync(volume, connector);
        row.Connector = connector.ToJsonString();
        row.AttachedHost = JsonBody.OptionalString(connector, "host", "connector");
        row.Mountpoint = JsonBody.OptionalString(connector, "mountpoint", "connector");
    }

    private async Task ShowAttachmentAsync(ApiRequest r)
    {
        var row = await FindAttachmentAsync(r);
        Enforce(r, "read", row.ProjectId);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["attachment"] = await AttachmentViewAsync(row, detail: true) });
    }

    private async Task UpdateAttachmentAsync(ApiRequest r)
    {
        var row = await FindAttachmentAsync(r);
        Enforce(r, "write", row.ProjectId);
        var body = await BodyAsync(r, "attachment");
        var connector = JsonBody.Object(body, "connector", "attachment");
        var volume = await _store.GetAsync<VolumeRow>(row.VolumeId) ?? throw ApiError.NotFound($"Volume {row.VolumeId} could not be found.");
        if (row.Status == "detached") throw ApiError.BadRequest($"Invalid volume attachment: attachment {row.Id} is detached.");
        await ConnectAsync(volume, row, connector);
        if (row.Status == "reserved") row.Status = "attaching";
        await _store.UpdateAsync(row);
        if (volume.Status is "reserved" or "available")
        {
            volume.Status = "attaching";
            volume.UpdatedAt = VolumeManager.Now();
            await _store.UpdateAsync(volume);
        }
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["attachment"] = await AttachmentViewAsync(row, detail: true) });
    }

    private async Task AttachmentActionAsync(ApiRequest r)
    {
        var row = await FindAttachmentAsync(r);
        Enforce(r, "write", row.ProjectId);
        var body = await JsonBody.ReadAsync(r.Context);
        if (body.Count != 1 || !body.ContainsKey("os-complete")) throw ApiError.BadRequest($"There is no such action: {string.Join(",", body.Select(p => p.Key))}");
        if (!Version(r).AtLeast(new ApiVersion(3, 44))) throw ApiError.NotFound("The resource could not be found.");
        row.Status = "attached";
        row.AttachTime = VolumeManager.Now();
        await _store.UpdateAsync(row);
        await _store.ExecuteAsync("UPDATE volumes SET status = 'in-use', updated_at = @now WHERE id = @id", new { id = row.VolumeId, now = row.AttachTime });
        await ApiResponses.NoContent(r.Context, 204);
    }

    private async Task DeleteAttachmentAsync(ApiRequest r)
    {
        var row = await FindAttachmentAsync(r);
        Enforce(r, "write", row.ProjectId);
        await _store.DeleteAsync<VolumeAttachmentRow>(row.Id);
        var remaining = await _store.ListAsync<VolumeAttachmentRow>(("volume_id", row.VolumeId));
        var status = remaining.Any(a => a.Status == "attached") ? "in-use" : remaining.Count > 0 ? "reserved" : "available";
        await _store.ExecuteAsync("UPDATE volumes SET status = @status, updated_at = @now WHERE id = @id", new { id = row.VolumeId, status, now = VolumeManager.Now() });
        if (remaining.Count == 0) await _store.ExecuteAsync("DELETE FROM attachments WHERE volume_id = @id", new { id = row.VolumeId });
        var items = new JsonArray();
        foreach (var a in remaining) items.Add(await AttachmentViewAsync(a, detail: false));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["attachments"] = items });
    }
}
