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
                await UploadToImageAsync(r, row, args);
                return;
            case "os-set_image_metadata" or "os-unset_image_metadata" or "os-show_image_metadata":
                await ImageMetadataActionAsync(r, row, action, args);
                return;
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

    /// <summary>os-volume_upload_image: the volume's data as a new raw image (available volumes; in-use ones with force).</summary>
    private async Task UploadToImageAsync(ApiRequest r, VolumeRow row, JsonObject args)
    {
        var name = ShortString(args, "image_name", "os-volume_upload_image") ?? throw ApiError.BadRequest("Invalid input received: image_name is required.");
        var diskFormat = JsonBody.OptionalString(args, "disk_format", "os-volume_upload_image") ?? "raw";
        var containerFormat = JsonBody.OptionalString(args, "container_format", "os-volume_upload_image") ?? "bare";
        if (diskFormat != "raw" || containerFormat != "bare")
            throw ApiError.BadRequest($"Invalid input received: volumes upload as raw/bare images here (asked for {diskFormat}/{containerFormat}).");
        var force = args["force"] is not null && Bool(args, "force");
        if (row.Status != "available" && !(force && row.Status == "in-use"))
            throw ApiError.BadRequest($"Invalid volume: Volume {row.Id} status must be available{(row.Status == "in-use" ? " (or in-use with force)" : "")}, but current status is: {row.Status}.");
        var visibility = JsonBody.OptionalString(args, "visibility", "os-volume_upload_image") ?? "private";
        var isProtected = args["protected"] is not null && Bool(args, "protected");
        var before = row.Status;
        row.Status = "uploading";
        await _store.UpdateAsync(row);
        string imageId;
        try
        {
            imageId = await _images.UploadAsync(row, name, visibility, isProtected, Token(r), r.Context.RequestAborted);
        }
        catch (Exception e) when (e is ImageUnusableException or Devices.BlockDeviceException or IOException or HttpRequestException)
        {
            throw ApiError.BadRequest($"Invalid input received: volume {row.Id} could not be uploaded to an image: {e.Message}");
        }
        finally
        {
            row.Status = before;
            row.UpdatedAt = VolumeManager.Now();
            await _store.UpdateAsync(row);
        }
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject
        {
            ["os-volume_upload_image"] = new JsonObject
            {
                ["id"] = row.Id, ["updated_at"] = row.UpdatedAt, ["status"] = "uploading", ["display_description"] = row.Description,
                ["size"] = Gigabytes(row.Size), ["volume_type"] = new JsonObject { ["name"] = row.VolumeType.Length > 0 ? row.VolumeType : DefaultTypeName },
                ["image_id"] = imageId, ["container_format"] = containerFormat, ["disk_format"] = diskFormat, ["image_name"] = name,
            },
        });
    }

    /// <summary>os-set_image_metadata, os-unset_image_metadata, os-show_image_metadata: the volume's volume_image_metadata.</summary>
    private async Task ImageMetadataActionAsync(ApiRequest r, VolumeRow row, string action, JsonObject args)
    {
        var metadata = row.ImageMetadata is { } json ? ParseObject(json) : [];
        switch (action)
        {
            case "os-set_image_metadata":
                foreach (var (key, value) in Metadata(args, "metadata")) metadata[key] = value;
                break;
            case "os-unset_image_metadata":
                var unset = JsonBody.String(args, "key", action);
                if (!metadata.Remove(unset)) throw ApiError.NotFound($"Glance metadata cannot be updated, key {unset} exists for volume id {row.Id}");
                break;
        }
        if (action != "os-show_image_metadata")
        {
            row.ImageMetadata = metadata.ToJsonString();
            row.UpdatedAt = VolumeManager.Now();
            await _store.UpdateAsync(row);
        }
        if (action == "os-unset_image_metadata") await ApiResponses.NoContent(r.Context, 200);
        else await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["metadata"] = metadata.DeepClone() });
    }
}
