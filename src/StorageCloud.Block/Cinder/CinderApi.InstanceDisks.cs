using System.Globalization;
using System.Text.Json.Nodes;
using StorageCloud.Block.Devices;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

/// <summary>
/// Instance disks (a StorageCloud extension beside Cinder's API, used by the compute service): a server's local root,
/// ephemeral and swap disks as volumes of the block store, exported over NBD like any volume, but not shown, counted or
/// touched by the volume API. A root disk made from an image is a copy-on-write clone of the image's converted layer,
/// as a volume from an image is. The compute service is asked (with the caller's token) that the server is the
/// caller's and what its flavor allows.
/// <code>
/// POST   /v3/{project}/os-instance-disks {"disk": {"instance_uuid": ..., "kind": "root|ephemeral|swap", "size": bytes, "imageRef": ...}}
/// GET    /v3/{project}/os-instance-disks?instance_uuid=...      GET/DELETE /v3/{project}/os-instance-disks/{id}
/// POST   /v3/{project}/os-instance-disks/{id}/action {"os-extend": {"new_size": bytes}} | {"os-upload_into_image": {"image_id": ...}}
/// </code>
/// </summary>
public sealed partial class CinderApi
{
    private static readonly HashSet<string> DiskKinds = ["root", "ephemeral", "swap"];
    private const long MiB = 1L << 20;

    private void MapInstanceDisks()
    {
        Project("POST", "/os-instance-disks", CreateInstanceDiskAsync);
        Project("GET", "/os-instance-disks", ListInstanceDisksAsync);
        Project("GET", "/os-instance-disks/{id}", async r => await ApiResponses.WriteJsonAsync(r.Context, 200,
            new JsonObject { ["disk"] = InstanceDiskView(await FindInstanceDiskAsync(r)) }));
        Project("DELETE", "/os-instance-disks/{id}", DeleteInstanceDiskAsync);
        Project("POST", "/os-instance-disks/{id}/action", InstanceDiskActionAsync);
    }

    private JsonObject InstanceDiskView(VolumeRow row) => new()
    {
        ["id"] = row.Id,
        ["instance_uuid"] = row.OwnerInstance,
        ["kind"] = row.DiskKind,
        ["size"] = row.Size,
        ["status"] = row.Status,
        ["image_id"] = row.ImageMetadata is { } m ? ParseObject(m)["image_id"]?.GetValue<string>() : null,
        ["created_at"] = row.CreatedAt,
        ["export"] = $"nbd://{_nbdHost}:{_settings.Nbd.Port.ToString(CultureInfo.InvariantCulture)}/{row.Id}",
    };

    private async Task<VolumeRow> FindInstanceDiskAsync(ApiRequest r)
    {
        var row = Guid.TryParse(r.Args[1], out var id) ? await _store.GetAsync<VolumeRow>(id.ToString("D")) : null;
        if (row is null || row.OwnerInstance.Length == 0 || !Visible(r, row.ProjectId)) throw ApiError.NotFound($"Instance disk {r.Args[1]} could not be found.");
        return row;
    }

    /// <summary>The server's allowance as the compute service gives it to the caller; 400 without a compute service, 404 for no such server.</summary>
    private async Task<Instances.DiskAllowance> AllowanceAsync(ApiRequest r, string instance)
    {
        if (!_compute.Configured) throw ApiError.BadRequest("Invalid input received: there is no compute service whose servers could own instance disks (Block:ComputeUrl).");
        Instances.DiskAllowance? allowance;
        try
        {
            allowance = await _compute.AllowanceOfAsync(instance, Token(r), r.Context.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            throw new ApiError(503, $"The compute service could not be asked about server {instance}: {e.Message}");
        }
        if (allowance is not { } a || a.ProjectId != ProjectOf(r)) throw ApiError.NotFound($"Instance {instance} could not be found.");
        return a;
    }

    private static long Bytes(JsonObject body, string name, string where) =>
        body[name] is JsonValue v && v.TryGetValue<long>(out var n) && n > 0 && n % 512 == 0 ? n
            : throw ApiError.Invalid($"Invalid input for field/attribute {name}: a positive number of bytes, a multiple of 512 ({where}).");

    private async Task CreateInstanceDiskAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "disk");
        var instance = JsonBody.String(body, "instance_uuid", "disk");
        var kind = JsonBody.String(body, "kind", "disk");
        if (!DiskKinds.Contains(kind)) throw ApiError.Invalid($"Invalid input for field/attribute kind: '{kind}' is not one of root, ephemeral, swap.");
        var size = Bytes(body, "size", "disk");
        var imageRef = JsonBody.OptionalString(body, "imageRef", "disk");
        if (imageRef is not null && kind != "root") throw ApiError.Invalid("Invalid input received: only a root disk is made from an image.");
        var allowance = await AllowanceAsync(r, instance);
        ImageInfo? image = null;
        string? layer = null;
        if (imageRef is not null)
        {
            try
            {
                image = await _images.DescribeAsync(imageRef, Token(r), r.Context.RequestAborted);
                if (image.VirtualSize > size) throw ApiError.BadRequest($"Invalid input received: image {image.Id} ({image.VirtualSize} bytes) does not fit in a disk of {size} bytes.");
                layer = await _images.LayerOfAsync(image, Token(r), r.Context.RequestAborted);
            }
            catch (Exception e) when (e is ImageUnusableException or BlockDeviceException or IOException or HttpRequestException)
            {
                throw ApiError.BadRequest($"Invalid input received: a disk could not be made from image {imageRef}: {e.Message}");
            }
        }
        var row = new VolumeRow
        {
            Name = $"{kind} disk of instance {instance}",
            ProjectId = ProjectOf(r),
            UserId = Me(r).UserId,
            Size = size,
            Status = "available",
            OwnerInstance = instance,
            DiskKind = kind,
            Bootable = kind == "root" ? 1 : 0,
            ImageMetadata = image is null ? null : ImageMetadataOf(image),
        };
        await _quotaGate.WaitAsync();
        try
        {
            var existing = await _store.ListAsync<VolumeRow>(("owner_instance", instance), ("disk_kind", kind));
            long used = 0;
            foreach (var disk in existing) used += disk.Size;
            // A flavor without a root size boots from the image's own size, as Nova sizes such a root disk.
            var limit = kind switch
            {
                "root" => allowance.RootBytes > 0 ? allowance.RootBytes : (image is null ? 0 : RoundUp(image.VirtualSize, MiB)),
                "ephemeral" => allowance.EphemeralBytes,
                _ => allowance.SwapBytes,
            };
            if (kind is "root" or "swap" && existing.Count > 0) throw ApiError.Conflict($"Instance {instance} already has a {kind} disk.");
            // Compared without adding, so a size near long.MaxValue cannot wrap around the limit.
            if (size > limit - used)
                throw ApiError.BadRequest($"Invalid input received: the flavor of instance {instance} allows {limit} bytes of {kind} disk ({used} in use, {size} asked).");
            await _manager.CreateAsync(row, layer);
        }
        finally
        {
            _quotaGate.Release();
        }
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["disk"] = InstanceDiskView(row) });
    }

    private static long RoundUp(long value, long unit) => (value + unit - 1) / unit * unit;

    private async Task ListInstanceDisksAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var instance = r.Query("instance_uuid");
        var rows = await _store.ListAsync<VolumeRow>(("project_id", ProjectOf(r)), ("owner_instance", instance));
        var disks = new JsonArray();
        foreach (var row in rows)
            if (row.OwnerInstance.Length > 0) disks.Add(InstanceDiskView(row));
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["disks"] = disks });
    }

    private async Task DeleteInstanceDiskAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var row = await FindInstanceDiskAsync(r);
        try
        {
            await _manager.DeleteAsync(row);
        }
        catch (VolumeStateException e)
        {
            throw ApiError.Conflict(e.Message);
        }
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task InstanceDiskActionAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var row = await FindInstanceDiskAsync(r);
        var body = await JsonBody.ReadAsync(r.Context);
        if (body["os-extend"] is JsonObject extend)
        {
            var size = Bytes(extend, "new_size", "os-extend");
            if (size < row.Size) throw ApiError.BadRequest($"Invalid input received: new size {size} is smaller than the disk's {row.Size} bytes.");
            var allowance = await AllowanceAsync(r, row.OwnerInstance);
            var limit = row.DiskKind switch { "root" => Math.Max(allowance.RootBytes, row.Size), "ephemeral" => allowance.EphemeralBytes, _ => allowance.SwapBytes };
            if (size > limit) throw ApiError.BadRequest($"Invalid input received: the flavor of instance {row.OwnerInstance} allows {limit} bytes of {row.DiskKind} disk.");
            await _manager.ExtendAsync(row, size);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["disk"] = InstanceDiskView(row) });
            return;
        }
        if (body["os-upload_into_image"] is JsonObject upload)
        {
            try
            {
                await _images.UploadIntoAsync(row, JsonBody.String(upload, "image_id", "os-upload_into_image"), Token(r), r.Context.RequestAborted);
            }
            catch (Exception e) when (e is ImageUnusableException or BlockDeviceException or IOException or HttpRequestException)
            {
                throw ApiError.BadRequest($"Invalid input received: disk {row.Id} could not be uploaded: {e.Message}");
            }
            await ApiResponses.NoContent(r.Context, 202);
            return;
        }
        throw ApiError.BadRequest("Invalid input received: the action is one of os-extend, os-upload_into_image.");
    }
}
