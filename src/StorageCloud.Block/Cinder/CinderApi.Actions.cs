using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    private static readonly HashSet<string> VolumeStates =
    [
        "creating", "available", "attaching", "in-use", "detaching", "maintenance", "deleting", "awaiting-transfer", "error", "error_deleting",
        "backing-up", "restoring-backup", "error_backing-up", "error_restoring", "error_extending", "downloading", "uploading", "retyping", "extending",
        "reserved",
    ];

    /// <summary>POST /volumes/{id}/action: one action, named by the body's only key.</summary>
    private async Task VolumeActionAsync(ApiRequest r)
    {
        var row = await FindVolumeAsync(r);
        var body = await JsonBody.ReadAsync(r.Context);
        if (body.Count != 1) throw ApiError.BadRequest("Malformed request body: an action body has exactly one key.");
        var (action, node) = body.First();
        var args = node as JsonObject ?? [];
        Enforce(r, action is "os-reset_status" or "os-force_delete" or "os-force_detach" ? "admin" : "write", row.ProjectId);
        switch (action)
        {
            case "os-extend":
                await ExtendAsync(r, row, args);
                return;
            case "os-reset_status":
                await ResetStatusAsync(row, args);
                break;
            case "os-set_bootable":
                row.Bootable = Bool(args, "bootable") ? 1 : 0;
                break;
            case "os-update_readonly_flag":
                var metadata = ParseObject(row.Metadata);
                metadata["readonly"] = Bool(args, "readonly") ? "True" : "False";
                row.Metadata = metadata.ToJsonString();
                break;
            case "os-retype":
                row.VolumeType = (await ResolveTypeAsync(r, JsonBody.String(args, "new_type", "os-retype"))).Name;
                break;
            case "os-reserve":
                Transition(row, "available", "attaching");
                break;
            case "os-unreserve":
                Transition(row, "attaching", "available");
                break;
            case "os-begin_detaching":
                Transition(row, "in-use", "detaching");
                break;
            case "os-roll_detaching":
                Transition(row, "detaching", "in-use");
                break;
            case "os-attach":
                await AttachLegacyAsync(r, row, args);
                break;
            case "os-detach" or "os-force_detach":
                await DetachLegacyAsync(row, JsonBody.OptionalString(args, "attachment_id", action));
                break;
            case "os-initialize_connection":
                var connector = JsonBody.Object(args, "connector", action);
                await AllowHostAsync(row, connector);
                await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["connection_info"] = ConnectionInfo(row, "rw") });
                return;
            case "os-terminate_connection":
                JsonBody.Object(args, "connector", action);
                await ApiResponses.NoContent(r.Context, 202);
                return;
            case "os-force_delete":
                await DeleteVolumeRowAsync(row, cascade: false, force: true);
                await ApiResponses.NoContent(r.Context, 202);
                return;
            case "os-volume_upload_image":
                throw ApiError.BadRequest("Invalid input received: uploading a volume to an image needs the image service, which this appliance does not run yet.");
            default:
                throw ApiError.BadRequest($"There is no such action: {action}");
        }
        row.UpdatedAt = VolumeManager.Now();
        await _store.UpdateAsync(row);
        // Cinder answers os-set_bootable with 200, the other actions with 202.
        await ApiResponses.NoContent(r.Context, action == "os-set_bootable" ? 200 : 202);
    }

    private static bool Bool(JsonObject args, string name)
    {
        var node = args[name];
        if (node is JsonValue v && v.TryGetValue<bool>(out var b)) return b;
        if (node is JsonValue s && s.TryGetValue<string>(out var text))
        {
            if (text.ToLowerInvariant() is "true" or "1" or "yes" or "on" or "t" or "y") return true;
            if (text.ToLowerInvariant() is "false" or "0" or "no" or "off" or "f" or "n") return false;
        }
        throw ApiError.BadRequest($"Invalid input for field/attribute {name}. Value: {node?.ToJsonString() ?? "None"}. It must be a boolean.");
    }

    private static void Transition(VolumeRow row, string from, string to)
    {
        if (row.Status != from) throw ApiError.BadRequest($"Invalid volume: Volume status must be {from} (is {row.Status}).");
        row.Status = to;
    }

    private async Task ExtendAsync(ApiRequest r, VolumeRow row, JsonObject args)
    {
        var newSize = SizeField(args, "new_size", required: true);
        var inUseAllowed = Version(r).AtLeast(new ApiVersion(3, 42));
        if (row.Status != "available" && !(inUseAllowed && row.Status == "in-use"))
            throw ApiError.BadRequest($"Invalid volume: Volume status must be {(inUseAllowed ? "'available' or 'in-use'" : "available")} to extend (is {row.Status}).");
        var current = Gigabytes(row.Size);
        if (newSize <= current)
            throw ApiError.BadRequest($"Invalid input received: New size for extend must be greater than current size. (current: {current}, extended: {newSize}).");
        await _quotaGate.WaitAsync();
        try
        {
            await CheckQuotaAsync(r, row.ProjectId, volumes: 0, gigabytes: newSize - current);
            await _manager.ExtendAsync(row, newSize * GiB);
        }
        finally
        {
            _quotaGate.Release();
        }
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task ResetStatusAsync(VolumeRow row, JsonObject args)
    {
        if (JsonBody.OptionalString(args, "status", "os-reset_status") is { } status)
        {
            if (!VolumeStates.Contains(status)) throw ApiError.BadRequest($"Invalid input received: '{status}' is not a volume status.");
            row.Status = status;
        }
        if (JsonBody.OptionalString(args, "attach_status", "os-reset_status") is { } attach)
        {
            if (attach is not ("attached" or "detached")) throw ApiError.BadRequest($"Invalid input received: '{attach}' is not an attach status.");
            if (attach == "detached")
                await _store.ExecuteAsync("UPDATE volume_attachments SET status = 'detached', detach_time = @now WHERE volume_id = @id AND status <> 'detached'",
                    new { id = row.Id, now = VolumeManager.Now() });
        }
    }

    /// <summary>The connection a client uses: the NBD server and the volume's export name.</summary>
    private JsonObject ConnectionInfo(VolumeRow row, string mode) => new()
    {
        ["driver_volume_type"] = "nbd",
        ["data"] = new JsonObject
        {
            ["host"] = _nbdHost,
            ["port"] = _settings.Nbd.Port,
            ["export_name"] = row.Id,
            ["uri"] = $"nbd://{_nbdHost}:{_settings.Nbd.Port.ToString(CultureInfo.InvariantCulture)}/{row.Id}",
            ["volume_id"] = row.Id,
            ["access_mode"] = mode,
            ["discard"] = true,
        },
    };

    /// <summary>An NBD server bound beyond loopback serves a volume only to the hosts it is attached to: the connector's IP becomes one.</summary>
    private async Task AllowHostAsync(VolumeRow row, JsonObject connector)
    {
        if (JsonBody.OptionalString(connector, "ip", "connector") is not { } ip) return;
        if (!IPAddress.TryParse(ip, out var address)) throw ApiError.BadRequest($"Invalid input received: connector ip '{ip}' is not an IP address.");
        await _store.InsertAsync(new AttachmentRow { Id = Guid.NewGuid().ToString("N"), VolumeId = row.Id, Host = address.ToString() });
    }

    private async Task AttachLegacyAsync(ApiRequest r, VolumeRow row, JsonObject args)
    {
        if (row.Status is not ("available" or "attaching" or "reserved"))
            throw ApiError.BadRequest($"Invalid volume: Volume status must be available or attaching to attach (is {row.Status}).");
        var instance = JsonBody.OptionalString(args, "instance_uuid", "os-attach");
        var host = JsonBody.OptionalString(args, "host_name", "os-attach");
        if (instance is null && host is null) throw ApiError.BadRequest("Invalid request to attach volume to an invalid target");
        var mode = JsonBody.OptionalString(args, "mode", "os-attach") ?? "rw";
        if (mode is not ("rw" or "ro")) throw ApiError.BadRequest("Invalid request to attach volume with an invalid mode. Attaching mode should be 'rw' or 'ro'");
        await _store.InsertAsync(new VolumeAttachmentRow
        {
            Id = Guid.NewGuid().ToString("D"),
            VolumeId = row.Id,
            ProjectId = row.ProjectId,
            InstanceUuid = instance,
            AttachedHost = host,
            Mountpoint = JsonBody.OptionalString(args, "mountpoint", "os-attach"),
            AttachMode = mode,
            Status = "attached",
            AttachTime = VolumeManager.Now(),
        });
        row.Status = "in-use";
    }

    private async Task DetachLegacyAsync(VolumeRow row, string? attachmentId)
    {
        var attached = await _store.ListAsync<VolumeAttachmentRow>(("volume_id", row.Id), ("status", "attached"));
        var target = attachmentId is null ? attached : attached.Where(a => a.Id == attachmentId).ToList();
        if (target.Count == 0)
        {
            if (attachmentId is not null) throw ApiError.NotFound($"Volume attachment could not be found with filter: attachment_id = {attachmentId}.");
            if (row.Status is not ("in-use" or "detaching")) throw ApiError.BadRequest($"Invalid volume: Volume {row.Id} is not attached (is {row.Status}).");
        }
        foreach (var a in target) await _store.DeleteAsync<VolumeAttachmentRow>(a.Id);
        if (attached.Count - target.Count == 0)
        {
            row.Status = "available";
            await _store.ExecuteAsync("DELETE FROM attachments WHERE volume_id = @id", new { id = row.Id });
        }
        else
        {
            row.Status = "in-use";
        }
    }
}
