using System.Text.Json.Nodes;
using StorageCloud.Block.Devices;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    private static readonly string[] VolumeSortKeys = ["created_at", "id", "name", "size", "status", "updated_at", "display_name", "bootable", "availability_zone"];

    /// <summary>The states a volume may be deleted in (besides a force delete).</summary>
    private static readonly HashSet<string> Deletable = ["available", "error", "error_restoring", "error_extending", "error_managing"];

    private void MapVolumes()
    {
        Project("GET", "/volumes", r => ListVolumesAsync(r, detail: false));
        Project("GET", "/volumes/detail", r => ListVolumesAsync(r, detail: true));
        Project("POST", "/volumes", CreateVolumeAsync);
        Project("GET", "/volumes/summary", VolumeSummaryAsync);
        Project("GET", "/volumes/{id}", ShowVolumeAsync);
        Project("PUT", "/volumes/{id}", UpdateVolumeAsync);
        Project("DELETE", "/volumes/{id}", DeleteVolumeAsync);
        Project("POST", "/volumes/{id}/action", VolumeActionAsync);
        MapMetadata("volumes", async r =>
        {
            var row = await FindVolumeAsync(r);
            return (row.ProjectId, row.Metadata, json =>
            {
                row.Metadata = json;
                row.UpdatedAt = VolumeManager.Now();
                return _store.UpdateAsync(row);
            });
        });
    }

    /// <summary>The volume named by the route's id, visible to the caller, or 404.</summary>
    private async Task<VolumeRow> FindVolumeAsync(ApiRequest r, string? id = null)
    {
        id ??= r.Args[1];
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<VolumeRow>(guid.ToString("D")) : null;
        // A server's local disk is not a volume: the volume API neither shows nor touches it.
        if (row is null || !Visible(r, row.ProjectId) || row.OwnerInstance.Length > 0) throw ApiError.NotFound($"Volume {id} could not be found.");
        return row;
    }

    /// <summary>A volume as Cinder shows it; <paramref name="extended"/> (show and list) adds the tenant, host and migration attributes its extensions add.</summary>
    private async Task<JsonObject> VolumeViewAsync(ApiRequest r, VolumeRow row, bool extended = true)
    {
        var attachments = new JsonArray();
        foreach (var a in await _store.ListAsync<VolumeAttachmentRow>(("volume_id", row.Id), ("status", "attached")))
        {
            attachments.Add(new JsonObject
            {
                ["server_id"] = a.InstanceUuid,
                ["attachment_id"] = a.Id,
                ["attached_at"] = a.AttachTime,
                ["host_name"] = a.AttachedHost,
                ["volume_id"] = row.Id,
                ["device"] = a.Mountpoint,
                ["id"] = row.Id,
            });
        }
        var view = new JsonObject
        {
            ["id"] = row.Id,
            ["name"] = row.Name,
            ["description"] = row.Description,
            ["size"] = Gigabytes(row.Size),
            ["status"] = row.Status,
            ["availability_zone"] = row.AvailabilityZone,
            ["created_at"] = row.CreatedAt,
            ["updated_at"] = Timestamp(row.UpdatedAt),
            ["attachments"] = attachments,
            ["bootable"] = row.Bootable != 0 ? "true" : "false",
            ["encrypted"] = false,
            ["multiattach"] = false,
            ["metadata"] = MetadataView(row.Metadata),
            ["links"] = Links(r, "volumes", row.Id),
            ["replication_status"] = null,
            ["consistencygroup_id"] = null,
            ["snapshot_id"] = row.SnapshotId,
            ["source_volid"] = row.SourceVolid,
            ["user_id"] = row.UserId,
            ["volume_type"] = row.VolumeType.Length > 0 ? row.VolumeType : DefaultTypeName,
        };
        if (extended) view["os-vol-tenant-attr:tenant_id"] = row.ProjectId;
        if (extended && row.ImageMetadata is { } imageMetadata) view["volume_image_metadata"] = ParseObject(imageMetadata);
        if (Me(r).IsAdmin) view["migration_status"] = null;
        if (extended && Me(r).IsAdmin)
        {
            view["os-vol-host-attr:host"] = PoolHost;
            view["os-vol-mig-status-attr:migstat"] = null;
            view["os-vol-mig-status-attr:name_id"] = null;
        }
        var version = Version(r);
        if (version.AtLeast(new ApiVersion(3, 13))) view["group_id"] = row.GroupId;
        if (version.AtLeast(new ApiVersion(3, 21))) view["provider_id"] = null;
        if (version.AtLeast(new ApiVersion(3, 48)))
        {
            view["service_uuid"] = Guid.Parse(_settings.Holder).ToString("D");
            view["shared_targets"] = false;
        }
        return view;
    }

    private async Task ListVolumesAsync(ApiRequest r, bool detail)
    {
        Enforce(r, "read");
        var rows = await _store.ListAsync<VolumeRow>(("project_id", AllTenants(r) ? r.Query("project_id") : ProjectOf(r)),
            ("status", r.Query("status")), ("availability_zone", r.Query("availability_zone")), ("group_id", r.Query("group_id")),
            ("owner_instance", ""));
        IEnumerable<VolumeRow> selected = rows;
        if ((r.Query("name") ?? r.Query("display_name")) is { } name) selected = selected.Where(v => v.Name == name);
        if (r.Query("bootable") is { } bootable) selected = selected.Where(v => (v.Bootable != 0) == bootable.ToLowerInvariant() is "true" or "1");
        if (r.Query("metadata") is { } metadata)
        {
            var wanted = JsonNode.Parse(metadata.Replace('\'', '"')) as JsonObject ?? throw ApiError.BadRequest("metadata must be a dict");
            selected = selected.Where(v => wanted.All(w => ParseObject(v.Metadata)[w.Key]?.GetValue<string>() == w.Value?.ToString()));
        }
        var sort = Pagination.Sort(r.Context.Request, VolumeSortKeys, new SortKey("created_at", true));
        var sorted = Sorted(selected.ToList(), sort, (v, key) => key switch
        {
            "id" => v.Id,
            "name" or "display_name" => v.Name,
            "size" => v.Size.ToString("D20", System.Globalization.CultureInfo.InvariantCulture),
            "status" => v.Status,
            "updated_at" => v.UpdatedAt,
            "bootable" => v.Bootable.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "availability_zone" => v.AvailabilityZone,
            _ => v.CreatedAt,
        });
        var (page, more) = Pagination.Page(sorted, v => v.Id, r.Query("marker"), Pagination.Limit(r.Context.Request, 1000),
            m => ApiError.NotFound($"Marker {m} could not be found."), Pagination.Offset(r.Context.Request));
        var items = new JsonArray();
        foreach (var row in page)
            items.Add(detail ? await VolumeViewAsync(r, row) : new JsonObject { ["id"] = row.Id, ["name"] = row.Name, ["links"] = Links(r, "volumes", row.Id) });
        var result = new JsonObject { ["volumes"] = items };
        if (more) result["volumes_links"] = Pagination.NextLinks(r.Context.Request, r.HostUrl, page[^1].Id);
        if (Version(r).AtLeast(new ApiVersion(3, 45)) && r.Query("with_count") is "true" or "True" or "1") result["count"] = sorted.Count;
        await ApiResponses.WriteJsonAsync(r.Context, 200, result);
    }

    /// <summary>Sorts rows by the request's keys (ids break ties, so pages are stable).</summary>
    private static List<T> Sorted<T>(List<T> rows, IReadOnlyList<SortKey> keys, Func<T, string, string> field)
    {
        rows.Sort((a, b) =>
        {
            foreach (var key in keys)
            {
                var c = string.CompareOrdinal(field(a, key.Key), field(b, key.Key));
                if (c != 0) return key.Descending ? -c : c;
            }
            return string.CompareOrdinal(field(a, "id"), field(b, "id"));
        });
        return rows;
    }

    private async Task CreateVolumeAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "volume");
        var project = ProjectOf(r);
        var snapshotId = JsonBody.OptionalString(body, "snapshot_id", "volume");
        var sourceId = JsonBody.OptionalString(body, "source_volid", "volume");
        var imageRef = JsonBody.OptionalString(body, "imageRef", "volume");
        var backupId = JsonBody.OptionalString(body, "backup_id", "volume");
        if ((snapshotId is null ? 0 : 1) + (sourceId is null ? 0 : 1) + (imageRef is null ? 0 : 1) + (backupId is null ? 0 : 1) > 1)
            throw ApiError.BadRequest("Invalid input received: only one of snapshot_id, source_volid, imageRef and backup_id may be given.");
        Backups.BackupRow? backup = null;
        if (backupId is not null)
        {
            if (!Version(r).AtLeast(new ApiVersion(3, 47))) throw ApiError.BadRequest("Invalid input received: backup_id needs microversion 3.47.");
            backup = await FindBackupAsync(r, backupId);
            if (backup.Status != "available") throw ApiError.BadRequest("Invalid backup: Backup status must be available");
        }
        ImageInfo? image = null;
        if (imageRef is not null)
        {
            try
            {
                image = await _images.DescribeAsync(imageRef, Token(r), r.Context.RequestAborted);
            }
            catch (ImageUnusableException e)
            {
                throw ApiError.BadRequest($"Invalid input received: {e.Message}");
            }
        }
        SnapshotRow? snapshot = null;
        VolumeRow? source = null;
        if (snapshotId is not null)
        {
            snapshot = await FindSnapshotAsync(r, snapshotId);
            if (snapshot.Status != "available") throw ApiError.BadRequest($"Invalid snapshot: Originating snapshot status must be one of 'available' values (is {snapshot.Status}).");
        }
        if (sourceId is not null)
        {
            source = await FindVolumeAsync(r, sourceId);
            if (source.Status is not ("available" or "in-use")) throw ApiError.BadRequest($"Invalid volume: Volume {source.Id} status must be available or in-use (is {source.Status}).");
        }
        var baseBytes = snapshot?.Size ?? source?.Size ?? backup?.Size ?? Math.Max(image?.VirtualSize ?? 0, (image?.MinDisk ?? 0) * GiB);
        var sizeGiB = body["size"] is null && baseBytes > 0 ? Gigabytes(baseBytes) : SizeField(body, "size", required: true);
        if (image is not null && sizeGiB * GiB < baseBytes)
            throw ApiError.BadRequest($"Invalid input received: Image {image.Id} needs {Gigabytes(baseBytes)}GB (virtual size {image.VirtualSize} bytes, min_disk {image.MinDisk}GB) and doesn't fit in a volume of size {sizeGiB}GB.");
        if (sizeGiB * GiB < baseBytes)
            throw ApiError.BadRequest($"Invalid input received: Volume size '{sizeGiB}'GB cannot be smaller than the {(snapshot is not null ? "snapshot" : backup is not null ? "backup" : "original volume")} size {Gigabytes(baseBytes)}GB. They must be >= original size.");
        var zone = JsonBody.OptionalString(body, "availability_zone", "volume") ?? "nova";
        if (zone != "nova") throw ApiError.BadRequest($"Invalid input received: Availability zone '{zone}' is invalid.");
        var type = await ResolveTypeAsync(r, JsonBody.OptionalString(body, "volume_type", "volume"));
        if (await _store.GetAsync<VolumeTypeEncryptionRow>(type.Id) is not null)
            throw ApiError.BadRequest($"Invalid input received: volume type {type.Name} is encrypted, and this appliance runs no key manager to encrypt volumes with.");
        // The scheduler's answer: a type asking for what the backend lacks makes a volume in error and a user message.
        var unsatisfied = UnsatisfiedSpec(type);
        GroupRow? group = null;
        if (Version(r).AtLeast(GroupsVersion) && JsonBody.OptionalString(body, "group_id", "volume") is { } groupId)
        {
            group = await FindGroupAsync(r, groupId);
            if (group.Status != "available") throw ApiError.BadRequest($"Invalid group: Group {group.Id} status must be available, but current status is: {group.Status}.");
            if (!TypesOf(group).Contains(type.Id))
                throw ApiError.BadRequest($"Invalid input received: Invalid volume_type provided: {type.Id}. Requested volume type is not compatible with group {group.Id}.");
        }
        var row = new VolumeRow
        {
            ProjectId = project,
            UserId = Me(r).UserId,
            Name = ShortString(body, "name", "volume") ?? ShortString(body, "display_name", "volume") ?? "",
            Description = JsonBody.OptionalString(body, "description", "volume") ?? JsonBody.OptionalString(body, "display_description", "volume") ?? "",
            Size = sizeGiB * GiB,
            Status = unsatisfied is null ? "available" : "error",
            AvailabilityZone = zone,
            VolumeType = type.Name,
            Metadata = Json(Metadata(body, "metadata")),
            SnapshotId = snapshot?.Id,
            SourceVolid = source?.Id,
            Bootable = image is not null ? 1 : source?.Bootable ?? 0,
            GroupId = group?.Id,
            ImageMetadata = image is null ? source?.ImageMetadata : ImageMetadataOf(image),
        };
        // An image is converted once, outside the quota lock (it may take a while); later volumes from it reuse its layer.
        string? imageLayer = null;
        if (image is not null && unsatisfied is null)
        {
            try
            {
                imageLayer = await _images.LayerOfAsync(image, Token(r), r.Context.RequestAborted);
            }
            catch (Exception e) when (e is ImageUnusableException or BlockDeviceException or IOException or HttpRequestException)
            {
                throw ApiError.BadRequest($"Invalid input received: a volume could not be made from image {image.Id}: {e.Message}");
            }
        }
        await _quotaGate.WaitAsync();
        try
        {
            await CheckQuotaAsync(r, project, volumes: 1, gigabytes: sizeGiB);
            string? parent = snapshot?.LayerId ?? imageLayer;
            if (source is not null)
            {
                try
                {
                    parent = await _manager.FreezeAsync(source, r.Context.RequestAborted);
                }
                catch (BlockDeviceException e)
                {
                    throw ApiError.BadRequest($"Invalid volume: the source volume {source.Id} could not be cloned: {e.Message}");
                }
            }
            await _manager.CreateAsync(row, parent);
        }
        finally
        {
            _quotaGate.Release();
        }
        if (backup is not null && unsatisfied is null)
        {
            await _backups.StartRestoreAsync(backup, row, blank: true);
            row.Status = "restoring-backup";
        }
        if (unsatisfied is not null)
            await AddMessageAsync(r, project, row.Id, "VOLUME_VOLUME_001_002",
                $"schedule allocate volume: Could not find any available weighted backend (the type asks for {unsatisfied}).");
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["volume"] = await VolumeViewAsync(r, row, extended: false) });
    }

    /// <summary>The caller's token, passed on to the image service so it answers as it would answer the caller.</summary>
    private static string Token(ApiRequest r) => r.Context.Request.Headers["X-Auth-Token"].ToString();

    /// <summary>Cinder's volume_image_metadata: what the volume's image was (string values).</summary>
    private static string ImageMetadataOf(ImageInfo image)
    {
        var metadata = new JsonObject
        {
            ["image_id"] = image.Id,
            ["image_name"] = image.Name ?? "",
            ["checksum"] = image.Checksum,
            ["disk_format"] = image.DiskFormat,
            ["container_format"] = image.ContainerFormat,
            ["min_disk"] = image.MinDisk.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["min_ram"] = image.MinRam.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["size"] = image.Size.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return metadata.ToJsonString();
    }

    private async Task ShowVolumeAsync(ApiRequest r)
    {
        Enforce(r, "read");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume"] = await VolumeViewAsync(r, await FindVolumeAsync(r)) });
    }

    private async Task UpdateVolumeAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var row = await FindVolumeAsync(r);
        var body = await BodyAsync(r, "volume");
        if (body.Count == 0) throw ApiError.BadRequest("Invalid input received: a volume update needs name, description or metadata.");
        if ((ShortString(body, "name", "volume") ?? ShortString(body, "display_name", "volume")) is { } name) row.Name = name;
        if ((JsonBody.OptionalString(body, "description", "volume") ?? JsonBody.OptionalString(body, "display_description", "volume")) is { } description)
            row.Description = description;
        if (body["metadata"] is not null) row.Metadata = Json(Metadata(body, "metadata"));
        row.UpdatedAt = VolumeManager.Now();
        await _store.UpdateAsync(row);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["volume"] = await VolumeViewAsync(r, row, extended: false) });
    }

    private async Task DeleteVolumeAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var row = await FindVolumeAsync(r);
        var cascade = r.Query("cascade") is "true" or "True" or "1";
        var force = r.Query("force") is "true" or "True" or "1";
        if (force) Enforce(r, "admin");
        await DeleteVolumeRowAsync(row, cascade, force);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task DeleteVolumeRowAsync(VolumeRow row, bool cascade, bool force)
    {
        var attached = await _store.ListAsync<VolumeAttachmentRow>(("volume_id", row.Id), ("status", "attached"));
        if ((!force && !Deletable.Contains(row.Status)) || attached.Count > 0)
            throw ApiError.BadRequest($"Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer. (volume {row.Id} is {row.Status}).");
        var snapshots = await _store.ListAsync<SnapshotRow>(("volume_id", row.Id));
        if (snapshots.Count > 0 && !cascade)
            throw ApiError.BadRequest($"Invalid volume: Volume {row.Id} still has {snapshots.Count} dependent snapshots.");
        foreach (var snapshot in snapshots) await _manager.DeleteSnapshotAsync(snapshot);
        try
        {
            await _manager.DeleteAsync(row);
        }
        catch (VolumeStateException e)
        {
            throw ApiError.BadRequest($"Invalid volume: {e.Message}");
        }
    }
}
