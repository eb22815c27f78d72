using System.Text.Json.Nodes;
using StorageCloud.Service.Api;

namespace StorageCloud.Compute.Nova;

/// <summary>
/// Volume attachments (`/servers/{id}/os-volume_attachments`): attach and detach through the volume service's
/// attachments API with the caller's token, so the volume's status follows (in-use, then available).
/// </summary>
public sealed partial class NovaApi
{
    private void MapAttachments()
    {
        Map("GET", "/servers/{id}/os-volume_attachments", async r =>
        {
            var server = await FindServerAsync(r, r.Args[0]);
            var list = new JsonArray();
            foreach (var a in server["_volumes"] as JsonArray ?? []) list.Add(AttachmentView(r, a!.AsObject()));
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volumeAttachments"] = list });
        });
        Map("GET", "/servers/{id}/os-volume_attachments/{volume}", async r =>
        {
            var server = await FindServerAsync(r, r.Args[0]);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volumeAttachment"] = AttachmentView(r, FindAttachment(server, r.Args[1])) });
        });
        Map("POST", "/servers/{id}/os-volume_attachments", AttachAsync);
        Map("DELETE", "/servers/{id}/os-volume_attachments/{volume}", DetachAsync);
    }

    private static JsonObject FindAttachment(JsonObject server, string volumeId) =>
        (server["_volumes"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(a => Str(a, "volumeId") == volumeId)
        ?? throw ApiError.NotFound($"volume_id not found: {volumeId}");

    private static JsonObject AttachmentView(ApiRequest r, JsonObject a)
    {
        var view = new JsonObject
        {
            ["device"] = Str(a, "device"), ["serverId"] = Str(a, "serverId"), ["volumeId"] = Str(a, "volumeId"),
        };
        if (!AtLeast(r, 89)) view["id"] = Str(a, "volumeId");
        if (AtLeast(r, 70)) view["tag"] = a["tag"]?.DeepClone();
        if (AtLeast(r, 79)) view["delete_on_termination"] = Flag(a, "delete_on_termination");
        return view;
    }

    private async Task AttachAsync(ApiRequest r)
    {
        var server = await FindServerAsync(r, r.Args[0], write: true);
        CheckUnlocked(r, server);
        var body = await BodyAsync(r, "volumeAttachment");
        var volumeId = JsonBody.OptionalString(body, "volumeId", "volumeAttachment")
            ?? throw ApiError.BadRequest("Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property");
        if (!Guid.TryParse(volumeId, out _)) throw ApiError.BadRequest($"Invalid input for field/attribute volumeId. Value: {volumeId}. '{volumeId}' is not a 'uuid'");
        var device = JsonBody.OptionalString(body, "device", "volumeAttachment");
        if (device is not null && !System.Text.RegularExpressions.Regex.IsMatch(device, "^/dev/[a-z]+[a-z0-9]*$"))
            throw ApiError.BadRequest($"Invalid input for field/attribute device. Value: {device}.");
        var deleteOnTermination = AtLeast(r, 79) ? JsonBody.OptionalBool(body, "delete_on_termination", "volumeAttachment") ?? false : false;
        var state = Str(server, "vm_state");
        if (state is not ("active" or "paused" or "stopped" or "suspended" or "resized" or "shelved" or "shelved_offloaded") || Str(server, "task_state") is not null)
            throw ApiError.Conflict($"Cannot 'attach_volume' instance {Str(server, "id")} while it is in vm_state {state}");
        if (device is not null && (server["_volumes"] as JsonArray ?? []).Any(a => Str(a!.AsObject(), "device") == device))
            throw ApiError.BadRequest($"The supplied device path ({device}) is in use.");
        var record = await AttachVolumeAsync(Token(r), server, volumeId, device, deleteOnTermination, boot: false);
        await RecordActionAsync(r, server, "attach_volume", save: false);
        await SaveServerAsync(server);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volumeAttachment"] = AttachmentView(r, record) });
    }

    private async Task DetachAsync(ApiRequest r)
    {
        var server = await FindServerAsync(r, r.Args[0], write: true);
        CheckUnlocked(r, server);
        var record = FindAttachment(server, r.Args[1]);
        if (Flag(record, "boot")) throw ApiError.BadRequest("Cannot detach a root device volume");
        var state = Str(server, "vm_state");
        if (state is not ("active" or "paused" or "stopped" or "suspended" or "resized" or "shelved" or "shelved_offloaded" or "error"))
            throw ApiError.Conflict($"Cannot 'detach_volume' instance {Str(server, "id")} while it is in vm_state {state}");
        await DetachVolumeAsync(Token(r), server, record, deleteVolume: false);
        await RecordActionAsync(r, server, "detach_volume", save: false);
        await SaveServerAsync(server);
        await ApiResponses.NoContent(r.Context, 202);
    }
}
