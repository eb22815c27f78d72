using System.Text;
using System.Text.Json.Nodes;
using StorageCloud.Block.Backups;
using StorageCloud.Block.Volumes;
using StorageCloud.Service.Api;

namespace StorageCloud.Block.Cinder;

public sealed partial class CinderApi
{
    /// <summary>What export_record names as the backup driver (Tempest checks the prefix).</summary>
    private const string BackupService = "cinder.backup.drivers.storagecloud";

    private static readonly string[] BackupSortKeys = ["created_at", "id", "name", "size", "status", "updated_at", "volume_id", "data_timestamp"];

    private void MapBackups()
    {
        Project("GET", "/backups", r => ListBackupsAsync(r, detail: false));
        Project("GET", "/backups/detail", r => ListBackupsAsync(r, detail: true));
        Project("POST", "/backups", CreateBackupAsync);
        Project("POST", "/backups/import_record", ImportBackupAsync);
        Project("GET", "/backups/{id}", ShowBackupAsync);
        Project("PUT", "/backups/{id}", UpdateBackupAsync);
        Project("DELETE", "/backups/{id}", r => DeleteBackupAsync(r, force: false));
        Project("POST", "/backups/{id}/restore", RestoreBackupAsync);
        Project("GET", "/backups/{id}/export_record", ExportBackupAsync);
        Project("GET", "/backups/{id}/progress", BackupProgressAsync);
        Project("GET", "/image-conversions/{id}", ImageConversionAsync);
        Project("POST", "/backups/{id}/action", BackupActionAsync);
    }

    private async Task<BackupRow> FindBackupAsync(ApiRequest r, string? id = null)
    {
        id ??= r.Args[1];
        var row = Guid.TryParse(id, out var guid) ? await _store.GetAsync<BackupRow>(guid.ToString("D")) : null;
        if (row is null || !Visible(r, row.ProjectId)) throw ApiError.NotFound($"Backup {id} could not be found.");
        return row;
    }

    private async Task<JsonObject> BackupViewAsync(ApiRequest r, BackupRow row, bool detail)
    {
        var view = new JsonObject { ["id"] = row.Id, ["links"] = Links(r, "backups", row.Id), ["name"] = row.Name };
        if (!detail) return view;
        var dependents = await _store.QueryAsync<string>("SELECT id FROM backups WHERE parent_id = @id", new { id = row.Id });
        view["status"] = row.Status;
        view["size"] = Gigabytes(row.Size);
        view["object_count"] = row.ObjectCount;
        view["availability_zone"] = row.AvailabilityZone;
        view["container"] = row.Container;
        view["created_at"] = row.CreatedAt;
        view["updated_at"] = Timestamp(row.UpdatedAt);
        view["description"] = row.Description;
        view["fail_reason"] = row.FailReason;
        view["volume_id"] = row.VolumeId;
        view["is_incremental"] = row.ParentId is not null;
        view["has_dependent_backups"] = dependents.Count > 0;
        view["snapshot_id"] = row.SnapshotId;
        view["data_timestamp"] = row.DataTimestamp;
        var version = Version(r);
        if (version.AtLeast(new ApiVersion(3, 18))) view["os-backup-project-attr:project_id"] = row.ProjectId;
        if (version.AtLeast(new ApiVersion(3, 43))) view["metadata"] = MetadataView(row.Metadata);
        if (version.AtLeast(new ApiVersion(3, 56))) view["user_id"] = row.UserId;
        return view;
    }

    private async Task ListBackupsAsync(ApiRequest r, bool detail)
    {
        Enforce(r, "read");
        var rows = await _store.ListAsync<BackupRow>(("project_id", AllTenants(r) ? r.Query("project_id") : ProjectOf(r)),
            ("status", r.Query("status")), ("volume_id", r.Query("volume_id")));
        IEnumerable<BackupRow> selected = rows;
        if ((r.Query("name") ?? r.Query("display_name")) is { } name) selected = selected.Where(b => b.Name == name);
        var sort = Pagination.Sort(r.Context.Request, BackupSortKeys, new SortKey("created_at", true));
        var sorted = Sorted(selected.ToList(), sort, (b, key) => key switch
        {
            "id" => b.Id,
            "name" => b.Name,
            "size" => b.Size.ToString("D20", System.Globalization.CultureInfo.InvariantCulture),
            "status" => b.Status,
            "updated_at" => b.UpdatedAt,
            "volume_id" => b.VolumeId,
            "data_timestamp" => b.DataTimestamp,
            _ => b.CreatedAt,
        });
        var (page, more) = Pagination.Page(sorted, b => b.Id, r.Query("marker"), Pagination.Limit(r.Context.Request, 1000),
            m => ApiError.NotFound($"Marker {m} could not be found."), Pagination.Offset(r.Context.Request));
        var items = new JsonArray();
        foreach (var row in page) items.Add(await BackupViewAsync(r, row, detail));
        var result = new JsonObject { ["backups"] = items };
        if (more) result["backups_links"] = Pagination.NextLinks(r.Context.Request, r.HostUrl, page[^1].Id);
        if (Version(r).AtLeast(new ApiVersion(3, 45)) && r.Query("with_count") is "true" or "True" or "1") result["count"] = sorted.Count;
        await ApiResponses.WriteJsonAsync(r.Context, 200, result);
    }

    private async Task ShowBackupAsync(ApiRequest r)
    {
        Enforce(r, "read");
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["backup"] = await BackupViewAsync(r, await FindBackupAsync(r), detail: true) });
    }

    /// <summary>
    /// Not Cinder's: how far a running creation or restore is (percent), and what the backup stored, for the
    /// `storagecloud backup` command's progress bar. Cinder's own view takes no extra fields (clients validate it).
    /// </summary>
    private async Task BackupProgressAsync(ApiRequest r)
    {
        Enforce(r, "read");
        var row = await FindBackupAsync(r);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
        {
            ["progress"] = new JsonObject
            {
                ["id"] = row.Id, ["status"] = row.Status, ["percent"] = row.Progress, ["stored_bytes"] = row.StoredBytes, ["object_count"] = row.ObjectCount,
                ["size"] = row.Size, ["restore_volume_id"] = row.RestoreVolumeId, ["fail_reason"] = row.FailReason,
            },
        });
    }

    /// <summary>
    /// Not Cinder's: how far the conversion of an image into raw chunks is (a volume from an image waits on it), for
    /// `storagecloud image to-volume`'s progress bar: {"conversion": {"image_id", "converting", "percent"}}. It tells
    /// only whether an image id is being converted now and how far, nothing of its data.
    /// </summary>
    private async Task ImageConversionAsync(ApiRequest r)
    {
        Enforce(r, "read");
        // Only for an image the caller may read (asked of the image service with the caller's token): another project's
        // private image is not found here either.
        try
        {
            await _images.DescribeAsync(r.Args[1], Token(r), r.Context.RequestAborted);
        }
        catch (Exception e) when (e is ImageUnusableException or HttpRequestException)
        {
            throw ApiError.NotFound($"Image {r.Args[1]} could not be found.");
        }
        var done = _images.ConversionProgress(r.Args[1]);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
        {
            ["conversion"] = new JsonObject { ["image_id"] = r.Args[1], ["converting"] = done is not null, ["percent"] = (int)Math.Floor((done ?? 0) * 100) },
        });
    }

    /// <summary>A container name given in a request: Swift's rules (no slash, at most 256 bytes).</summary>
    private string ContainerField(JsonObject body)
    {
        var container = JsonBody.OptionalString(body, "container", "backup");
        if (string.IsNullOrEmpty(container)) return _backups.Settings.Container;
        if (container.Contains('/') || Encoding.UTF8.GetByteCount(container) > 256)
            throw ApiError.Invalid("Invalid input for field/attribute container. Value: not a container name (at most 256 bytes, no '/').");
        return container;
    }

    private async Task CreateBackupAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var body = await BodyAsync(r, "backup");
        var volume = await FindVolumeAsync(r, JsonBody.OptionalString(body, "volume_id", "backup") ?? "None");
        var force = body["force"] is not null && Bool(body, "force");
        var incremental = body["incremental"] is not null && Bool(body, "incremental");
        if (volume.Status == "in-use" && !force) throw ApiError.BadRequest("Invalid volume: Backing up an in-use volume must use the force flag.");
        if (volume.Status is not ("available" or "in-use"))
            throw ApiError.BadRequest($"Invalid volume: Volume to be backed up must be available or in-use, but the current status is \"{volume.Status}\".");
        SnapshotRow? snapshot = null;
        if (JsonBody.OptionalString(body, "snapshot_id", "backup") is { } snapshotId)
        {
            snapshot = await FindSnapshotAsync(r, snapshotId);
            if (snapshot.VolumeId != volume.Id) throw ApiError.BadRequest($"Invalid snapshot: Snapshot {snapshot.Id} is not a snapshot of volume {volume.Id}.");
            if (snapshot.Status != "available") throw ApiError.BadRequest($"Invalid snapshot: Snapshot to be backed up must be available, but the current status is \"{snapshot.Status}\".");
        }
        var container = ContainerField(body);
        var zone = JsonBody.OptionalString(body, "availability_zone", "backup") ?? "nova";
        if (zone != "nova") throw ApiError.BadRequest($"Invalid input received: Availability zone '{zone}' is invalid.");
        BackupRow? parent = null;
        if (incremental)
        {
            var candidates = await _store.ListAsync<BackupRow>(("volume_id", volume.Id), ("status", "available"), ("container", container));
            parent = candidates.Where(b => b.Account == _backups.Settings.AccountOf(volume.ProjectId)).MaxBy(b => b.DataTimestamp + b.CreatedAt)
                ?? throw ApiError.BadRequest("Invalid backup: No backups available to do an incremental backup.");
        }
        var row = new BackupRow
        {
            Id = Guid.NewGuid().ToString("D"),
            ProjectId = volume.ProjectId,
            UserId = Me(r).UserId,
            VolumeId = volume.Id,
            SnapshotId = snapshot?.Id,
            Name = ShortString(body, "name", "backup") ?? ShortString(body, "display_name", "backup") ?? "",
            Description = JsonBody.OptionalString(body, "description", "backup") ?? JsonBody.OptionalString(body, "display_description", "backup") ?? "",
            Container = container,
            AvailabilityZone = zone,
            Metadata = Json(Metadata(body, "metadata")),
        };
        await _quotaGate.WaitAsync();
        try
        {
            await CheckBackupQuotaAsync(r, volume.ProjectId, Gigabytes(volume.Size));
            await _backups.StartBackupAsync(row, volume, snapshot, parent);
        }
        finally
        {
            _quotaGate.Release();
        }
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject { ["backup"] = await BackupViewAsync(r, row, detail: false) });
    }

    private async Task CheckBackupQuotaAsync(ApiRequest r, string project, long gigabytes)
    {
        var limits = await LimitsOfAsync(project);
        var usage = await UsageOfAsync(project);
        r.Context.Response.Headers.RetryAfter = "0";
        if (limits["backups"] >= 0 && usage["backups"] + 1 > limits["backups"])
            throw new ApiError(413, $"BackupLimitExceeded: Maximum number of backups allowed ({limits["backups"]}) exceeded");
        if (limits["backup_gigabytes"] >= 0 && usage["backup_gigabytes"] + gigabytes > limits["backup_gigabytes"])
            throw new ApiError(413, $"VolumeBackupSizeExceedsAvailableQuota: Requested backup exceeds allowed Backup gigabytes quota. Requested {gigabytes}G, quota is {limits["backup_gigabytes"]}G and {usage["backup_gigabytes"]}G has been consumed.");
        r.Context.Response.Headers.Remove("Retry-After");
    }

    private async Task UpdateBackupAsync(ApiRequest r)
    {
        Enforce(r, "write");
        if (!Version(r).AtLeast(new ApiVersion(3, 9))) throw ApiError.NotFound("The resource could not be found.");
        var row = await FindBackupAsync(r);
        var body = await BodyAsync(r, "backup");
        if (body.Count == 0) throw ApiError.BadRequest("Invalid input received: a backup update needs name, description or metadata.");
        if (ShortString(body, "name", "backup") is { } name) row.Name = name;
        if (JsonBody.OptionalString(body, "description", "backup") is { } description) row.Description = description;
        if (body["metadata"] is not null && Version(r).AtLeast(new ApiVersion(3, 43))) row.Metadata = Json(Metadata(body, "metadata"));
        row.UpdatedAt = VolumeManager.Now();
        await _store.ExecuteAsync("UPDATE backups SET name = @Name, description = @Description, metadata = @Metadata, updated_at = @UpdatedAt WHERE id = @Id", row);
        // Cinder answers an update with the summary view (and the metadata from 3.43).
        var view = await BackupViewAsync(r, row, detail: false);
        if (Version(r).AtLeast(new ApiVersion(3, 43))) view["metadata"] = MetadataView(row.Metadata);
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["backup"] = view });
    }

    private async Task DeleteBackupAsync(ApiRequest r, bool force)
    {
        Enforce(r, force ? "admin" : "write");
        var row = await FindBackupAsync(r);
        if (!force && row.Status is not ("available" or "error")) throw ApiError.BadRequest("Invalid backup: Backup status must be available or error");
        if (_backups.IsBusy(row.Id)) throw ApiError.BadRequest($"Invalid backup: Backup {row.Id} is busy ({row.Status}).");
        if ((await _store.QueryAsync<string>("SELECT id FROM backups WHERE parent_id = @id", new { id = row.Id })).Count > 0)
            throw ApiError.BadRequest("Invalid backup: Incremental backups exist for this backup.");
        await _backups.StartDeleteAsync(row);
        await ApiResponses.NoContent(r.Context, 202);
    }

    private async Task RestoreBackupAsync(ApiRequest r)
    {
        Enforce(r, "write");
        var backup = await FindBackupAsync(r);
        var body = await BodyAsync(r, "restore");
        if (backup.Status != "available") throw ApiError.BadRequest("Invalid backup: Backup status must be available");
        var name = ShortString(body, "name", "restore");
        VolumeRow target;
        var blank = false;
        if (JsonBody.OptionalString(body, "volume_id", "restore") is { } volumeId)
        {
            target = await FindVolumeAsync(r, volumeId);
            if (target.Status != "available") throw ApiError.BadRequest("Invalid volume: Volume to be restored to must be available");
            if (target.Size < backup.Size)
                throw ApiError.BadRequest($"Invalid volume: volume size {Gigabytes(target.Size)} is too small to restore backup of size {Gigabytes(backup.Size)}.");
        }
        else
        {
            var type = await ResolveTypeAsync(r, null);
            target = new VolumeRow
            {
                ProjectId = ProjectOf(r),
                UserId = Me(r).UserId,
                Name = name ?? $"restore_backup_{backup.Id}",
                Size = Gigabytes(backup.Size) * GiB,
                Status = "creating",
                VolumeType = type.Name,
                AvailabilityZone = backup.AvailabilityZone,
            };
            await _quotaGate.WaitAsync();
            try
            {
                await CheckQuotaAsync(r, target.ProjectId, volumes: 1, gigabytes: Gigabytes(target.Size));
                await _manager.CreateAsync(target, null);
            }
            finally
            {
                _quotaGate.Release();
            }
            blank = true;
        }
        await _backups.StartRestoreAsync(backup, target, blank);
        await ApiResponses.WriteJsonAsync(r.Context, 202, new JsonObject
        {
            ["restore"] = new JsonObject { ["backup_id"] = backup.Id, ["volume_id"] = target.Id, ["volume_name"] = target.Name },
        });
    }

    private async Task ExportBackupAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var row = await FindBackupAsync(r);
        if (row.Status != "available") throw ApiError.BadRequest("Invalid backup: Backup status must be available and not restoring.");
        var record = new JsonObject
        {
            ["id"] = row.Id, ["project_id"] = row.ProjectId, ["user_id"] = row.UserId, ["volume_id"] = row.VolumeId, ["snapshot_id"] = row.SnapshotId,
            ["parent_id"] = row.ParentId, ["name"] = row.Name, ["description"] = row.Description, ["account"] = row.Account, ["container"] = row.Container,
            ["manifest"] = row.Manifest, ["size"] = row.Size, ["object_count"] = row.ObjectCount, ["availability_zone"] = row.AvailabilityZone,
            ["metadata"] = row.Metadata, ["data_timestamp"] = row.DataTimestamp, ["created_at"] = row.CreatedAt,
        };
        await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject
        {
            ["backup-record"] = new JsonObject { ["backup_service"] = BackupService, ["backup_url"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(record.ToJsonString())) },
        });
    }

    private async Task ImportBackupAsync(ApiRequest r)
    {
        Enforce(r, "admin");
        var body = await BodyAsync(r, "backup-record");
        var service = JsonBody.OptionalString(body, "backup_service", "backup-record");
        var url = JsonBody.OptionalString(body, "backup_url", "backup-record");
        if (service is null || url is null) throw ApiError.BadRequest("Invalid input received: backup_service and backup_url are required.");
        if (service != BackupService) throw ApiError.BadRequest($"Invalid input received: Unsupported backup service {service}; this appliance imports {BackupService} records.");
        JsonObject record;
        try
        {
            record = JsonNode.Parse(Convert.FromBase64String(url)) as JsonObject ?? throw new FormatException();
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            throw ApiError.BadRequest("Invalid input received: Can't parse backup record.");
        }
        string Field(string name) => record[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw ApiError.BadRequest($"Invalid input received: the backup record has no {name}.");
        if (!Guid.TryParse(Field("id"), out var id)) throw ApiError.BadRequest("Invalid input received: the backup record's id is not a UUID.");
        var row = new BackupRow
        {
            Id = id.ToString("D"), ProjectId = ProjectOf(r), UserId = Me(r).UserId, VolumeId = Field("volume_id"), Name = Field("name"),
            Description = record["description"]?.GetValue<string>() ?? "", Account = Field("account"), Container = Field("container"), Manifest = Field("manifest"),
            Size = record["size"]?.GetValue<long>() ?? 0, ObjectCount = record["object_count"]?.GetValue<long>() ?? 0, Status = "available", Progress = 100,
            AvailabilityZone = record["availability_zone"]?.GetValue<string>() ?? "nova", Metadata = record["metadata"]?.GetValue<string>() ?? "{}",
            DataTimestamp = record["data_timestamp"]?.GetValue<string>() ?? VolumeManager.Now(), CreatedAt = VolumeManager.Now(),
        };
        row.UpdatedAt = row.CreatedAt;
        if (!row.Account.StartsWith(_backups.Settings.AccountPrefix, StringComparison.Ordinal))
            throw ApiError.BadRequest("Invalid input received: the backup record names no project account.");
        if (await _store.GetAsync<BackupRow>(row.Id) is not null) throw ApiError.BadRequest("Invalid backup: Backup already exists in database.");
        BackupManifest manifest;
        try
        {
            manifest = await BackupRestorer.ReadManifestAsync(_backups.ObjectsOf(row), row.Manifest, row.Id, r.Context.RequestAborted);
        }
        catch (BackupCorruptException e)
        {
            throw ApiError.BadRequest($"Invalid backup: {e.Message}");
        }
        // The imported record uses the same blocks: they must outlive the original record.
        foreach (var batch in manifest.Blocks.Select(b => b.Sha256).Distinct().Chunk(500))
            await _backups.Catalog.ReferenceAsync(row.Id, row.Account, row.Container, batch);
        row.Size = manifest.Size;
        if (!await _store.InsertAsync(row)) throw ApiError.BadRequest("Invalid backup: Backup already exists in database.");
        await ApiResponses.WriteJsonAsync(r.Context, 201, new JsonObject { ["backup"] = await BackupViewAsync(r, row, detail: false) });
    }

    private async Task BackupActionAsync(ApiRequest r)
    {
        var body = await JsonBody.ReadAsync(r.Context);
        if (body is not JsonObject { Count: 1 } action) throw ApiError.BadRequest("Invalid input received: one backup action is expected.");
        var (name, args) = action.First();
        switch (name)
        {
            case "os-reset_status":
                {
                    Enforce(r, "admin");
                    var row = await FindBackupAsync(r);
                    var status = args?["status"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                    if (status is not ("available" or "error")) throw ApiError.BadRequest($"Invalid input received: Invalid backup status {status ?? "None"}; it must be available or error.");
                    await _store.ExecuteAsync("UPDATE backups SET status = @status, updated_at = @now WHERE id = @id", new { id = row.Id, status, now = VolumeManager.Now() });
                    await ApiResponses.NoContent(r.Context, 202);
                    break;
                }
            case "os-force_delete":
                await DeleteBackupAsync(r, force: true);
                break;
            default:
                throw ApiError.BadRequest($"Invalid input received: There is no such action: {name}");
        }
    }
}
