using StorageCloud.Service.Sql;

namespace StorageCloud.Block.Volumes;

/// <summary>A volume's row: its size and state, and the lease of its one writer.</summary>
public sealed class VolumeRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public long Size { get; set; }
    public string Status { get; set; } = "available";
    public string CreatedAt { get; set; } = "";
    /// <summary>Who holds the write lease (a gateway's id), or null.</summary>
    public string? LeaseHolder { get; set; }
    /// <summary>The lease's epoch: every new holder takes the next one, and storage nodes refuse older ones.</summary>
    public long LeaseEpoch { get; set; }
    /// <summary>Unix seconds when the lease ends unless renewed.</summary>
    public long LeaseExpires { get; set; }
    /// <summary>The layer the volume writes (its chunks' id on the storage nodes); layers below it are in <c>layers</c>.</summary>
    public string LayerId { get; set; } = "";
    public string Description { get; set; } = "";
    public string UserId { get; set; } = "";
    public string VolumeType { get; set; } = "";
    public string AvailabilityZone { get; set; } = "nova";
    public int Bootable { get; set; }
    /// <summary>The volume's metadata as a JSON object.</summary>
    public string Metadata { get; set; } = "{}";
    public string? SourceVolid { get; set; }
    public string? SnapshotId { get; set; }
    public string UpdatedAt { get; set; } = "";
    /// <summary>The generic volume group the volume belongs to, or null.</summary>
    public string? GroupId { get; set; }
    /// <summary>The image the volume was made from, as Cinder's volume_image_metadata (a JSON object), or null.</summary>
    public string? ImageMetadata { get; set; }
    /// <summary>
    /// The server whose local disk (root, ephemeral or swap) this is, or "" for a volume. Instance disks are volumes of
    /// the block store that the volume API does not show or count: they belong to the server and go with it.
    /// </summary>
    public string OwnerInstance { get; set; } = "";
    /// <summary>For an instance disk: root, ephemeral or swap.</summary>
    public string DiskKind { get; set; } = "";
}

/// <summary>An image converted once to raw chunks: the frozen layer every volume from the image is a clone of.</summary>
public sealed class ImageLayerRow
{
    /// <summary>The image's id.</summary>
    public string Id { get; set; } = "";
    /// <summary>The image data's MD5: another checksum under the same id is other data.</summary>
    public string Checksum { get; set; } = "";
    public string LayerId { get; set; } = "";
    /// <summary>The image's virtual size in bytes.</summary>
    public long Size { get; set; }
    public string CreatedAt { get; set; } = "";
    /// <summary>When the last volume was made from it ("" for never since it was converted).</summary>
    public string UsedAt { get; set; } = "";
}

/// <summary>A layer of chunks and the frozen layer below it (see <see cref="Devices.FrozenLayer"/>).</summary>
public sealed class LayerRow
{
    public string Id { get; set; } = "";
    public string? ParentId { get; set; }
    public string CreatedAt { get; set; } = "";
}

/// <summary>A host a volume is attached to: an NBD server bound beyond loopback serves the volume only to it.</summary>
public sealed class AttachmentRow
{
    public string Id { get; set; } = "";
    public string VolumeId { get; set; } = "";
    public string Host { get; set; } = "";
}

/// <summary>
/// The block service's metadata in SQL (SQLite embedded, PostgreSQL for several API nodes): volumes, their leases and
/// attachments. A lease is taken with one conditional UPDATE, so two gateways can never both believe they hold it.
/// </summary>
public sealed class VolumeStore(SqlDatabase db) : SqlStore(db, Tables)
{
    private static readonly Dictionary<Type, string> Tables = new()
    {
        [typeof(VolumeRow)] = "volumes",
        [typeof(AttachmentRow)] = "attachments",
        [typeof(LayerRow)] = "layers",
        [typeof(SnapshotRow)] = "snapshots",
        [typeof(VolumeTypeRow)] = "volume_types",
        [typeof(QuotaRow)] = "quotas",
        [typeof(TransferRow)] = "transfers",
        [typeof(VolumeAttachmentRow)] = "volume_attachments",
        [typeof(VolumeTypeAccessRow)] = "volume_type_access",
        [typeof(QosSpecsRow)] = "qos_specs",
        [typeof(VolumeTypeEncryptionRow)] = "volume_type_encryption",
        [typeof(ServiceStateRow)] = "service_states",
        [typeof(UserMessageRow)] = "messages",
        [typeof(GroupTypeRow)] = "group_types",
        [typeof(GroupRow)] = "volume_groups",
        [typeof(GroupSnapshotRow)] = "group_snapshots",
        [typeof(ImageLayerRow)] = "image_layers",
        [typeof(Backups.BackupRow)] = "backups",
        [typeof(Backups.BackupBlockRow)] = "backup_blocks",
        [typeof(Backups.BackupRefRow)] = "backup_refs",
        [typeof(Backups.BackupPackRow)] = "backup_packs",
    };

    /// <summary>The component name schema_versions records.</summary>
    public const string Component = "block";

    /// <summary>The migrations, oldest first.</summary>
    public static readonly IReadOnlyList<SqlMigration> Migrations =
    [
        new(1,
        [
            """
            CREATE TABLE IF NOT EXISTS volumes (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', project_id TEXT NOT NULL DEFAULT '',
                size BIGINT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL, lease_holder TEXT, lease_epoch BIGINT NOT NULL DEFAULT 0,
                lease_expires BIGINT NOT NULL DEFAULT 0)
            """,
            "CREATE TABLE IF NOT EXISTS attachments (id TEXT PRIMARY KEY, volume_id TEXT NOT NULL, host TEXT NOT NULL, UNIQUE (volume_id, host))",
        ]),
        new(2,
        [
            "ALTER TABLE volumes ADD COLUMN layer_id TEXT NOT NULL DEFAULT ''",
            "UPDATE volumes SET layer_id = id",
            "ALTER TABLE volumes ADD COLUMN description TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE volumes ADD COLUMN user_id TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE volumes ADD COLUMN volume_type TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE volumes ADD COLUMN availability_zone TEXT NOT NULL DEFAULT 'nova'",
            "ALTER TABLE volumes ADD COLUMN bootable INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE volumes ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE volumes ADD COLUMN source_volid TEXT",
            "ALTER TABLE volumes ADD COLUMN snapshot_id TEXT",
            "ALTER TABLE volumes ADD COLUMN updated_at TEXT NOT NULL DEFAULT ''",
            "CREATE TABLE IF NOT EXISTS layers (id TEXT PRIMARY KEY, parent_id TEXT, created_at TEXT NOT NULL)",
            "INSERT INTO layers (id, parent_id, created_at) SELECT id, NULL, created_at FROM volumes",
            """
            CREATE TABLE IF NOT EXISTS snapshots (id TEXT PRIMARY KEY, volume_id TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
                layer_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, size BIGINT NOT NULL, status TEXT NOT NULL,
                metadata TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS volume_types (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL,
                is_public INTEGER NOT NULL, extra_specs TEXT NOT NULL, created_at TEXT NOT NULL)
            """,
            "CREATE TABLE IF NOT EXISTS quotas (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, resource TEXT NOT NULL, hard_limit BIGINT NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS transfers (id TEXT PRIMARY KEY, volume_id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL, name TEXT NOT NULL,
                salt TEXT NOT NULL, key_hash TEXT NOT NULL, created_at TEXT NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS volume_attachments (id TEXT PRIMARY KEY, volume_id TEXT NOT NULL, project_id TEXT NOT NULL,
                instance_uuid TEXT, attached_host TEXT, mountpoint TEXT, attach_mode TEXT NOT NULL, connector TEXT, status TEXT NOT NULL,
                attach_time TEXT, detach_time TEXT)
            """,
        ]),
        new(3,
        [
            "ALTER TABLE snapshots ADD COLUMN progress TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE volume_types ADD COLUMN qos_specs_id TEXT",
            "ALTER TABLE volumes ADD COLUMN group_id TEXT",
            "ALTER TABLE snapshots ADD COLUMN group_snapshot_id TEXT",
            "ALTER TABLE volumes ADD COLUMN image_metadata TEXT",
            "CREATE TABLE IF NOT EXISTS image_layers (id TEXT PRIMARY KEY, checksum TEXT NOT NULL, layer_id TEXT NOT NULL, size BIGINT NOT NULL, created_at TEXT NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS group_types (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL,
                is_public INTEGER NOT NULL, group_specs TEXT NOT NULL, created_at TEXT NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS volume_groups (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL, name TEXT NOT NULL,
                description TEXT NOT NULL, group_type_id TEXT NOT NULL, volume_types TEXT NOT NULL, status TEXT NOT NULL,
                availability_zone TEXT NOT NULL, group_snapshot_id TEXT, source_group_id TEXT, created_at TEXT NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS group_snapshots (id TEXT PRIMARY KEY, group_id TEXT NOT NULL, project_id TEXT NOT NULL, user_id TEXT NOT NULL,
                name TEXT NOT NULL, description TEXT NOT NULL, group_type_id TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL)
            """,
            "CREATE TABLE IF NOT EXISTS volume_type_access (id TEXT PRIMARY KEY, volume_type_id TEXT NOT NULL, project_id TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS qos_specs (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, consumer TEXT NOT NULL, specs TEXT NOT NULL, created_at TEXT NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS volume_type_encryption (id TEXT PRIMARY KEY, encryption_id TEXT NOT NULL, provider TEXT, cipher TEXT,
                key_size BIGINT, control_location TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT)
            """,
            "CREATE TABLE IF NOT EXISTS service_states (id TEXT PRIMARY KEY, disabled INTEGER NOT NULL, disabled_reason TEXT, frozen INTEGER NOT NULL, updated_at TEXT NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS messages (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, resource_type TEXT NOT NULL, resource_uuid TEXT,
                event_id TEXT NOT NULL, message_level TEXT NOT NULL, user_message TEXT NOT NULL, request_id TEXT NOT NULL, created_at TEXT NOT NULL,
                guaranteed_until TEXT NOT NULL)
            """,
        ]),
        new(4,
        [
            """
            CREATE TABLE IF NOT EXISTS backups (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL, volume_id TEXT NOT NULL,
                snapshot_id TEXT, parent_id TEXT, name TEXT NOT NULL, description TEXT NOT NULL, account TEXT NOT NULL, container TEXT NOT NULL,
                manifest TEXT NOT NULL, status TEXT NOT NULL, fail_reason TEXT, size BIGINT NOT NULL, object_count BIGINT NOT NULL,
                stored_bytes BIGINT NOT NULL, progress INTEGER NOT NULL, host TEXT NOT NULL, volume_previous_status TEXT, restore_volume_id TEXT,
                metadata TEXT NOT NULL, availability_zone TEXT NOT NULL, data_timestamp TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS backup_blocks (id TEXT PRIMARY KEY, account TEXT NOT NULL, container TEXT NOT NULL, digest TEXT NOT NULL,
                pack TEXT NOT NULL, position BIGINT NOT NULL, length INTEGER NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS backup_blocks_digest ON backup_blocks (account, digest)",
            "CREATE INDEX IF NOT EXISTS backup_blocks_pack ON backup_blocks (pack)",
            "CREATE TABLE IF NOT EXISTS backup_refs (id TEXT PRIMARY KEY, backup_id TEXT NOT NULL, account TEXT NOT NULL, digest TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS backup_refs_digest ON backup_refs (account, digest)",
            "CREATE INDEX IF NOT EXISTS backup_refs_backup ON backup_refs (backup_id)",
            """
            CREATE TABLE IF NOT EXISTS backup_packs (id TEXT PRIMARY KEY, account TEXT NOT NULL, container TEXT NOT NULL, backup_id TEXT NOT NULL,
                state TEXT NOT NULL, bytes BIGINT NOT NULL, created_at TEXT NOT NULL)
            """,
        ]),
        new(5,
        [
            "ALTER TABLE volumes ADD COLUMN owner_instance TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE volumes ADD COLUMN disk_kind TEXT NOT NULL DEFAULT ''",
        ]),
        new(6,
        [
            "ALTER TABLE image_layers ADD COLUMN used_at TEXT NOT NULL DEFAULT ''",
        ]),
    ];

    /// <summary>
    /// Takes the volume's lease for <paramref name="holder"/> when it is free, expired, already its own, or when
    /// <paramref name="force"/> (an operator's takeover): the epoch moves on by one. Returns the new epoch, or null
    /// when another holder's lease is still live.
    /// </summary>
    public async Task<long?> AcquireLeaseAsync(string volumeId, string holder, TimeSpan duration, bool force, DateTimeOffset now)
    {
        var updated = await ExecuteAsync(
            """
            UPDATE volumes SET lease_holder = @holder, lease_epoch = lease_epoch + 1, lease_expires = @expires
            WHERE id = @id AND (@force = 1 OR lease_holder IS NULL OR lease_holder = @holder OR lease_expires < @now)
            """,
            new { id = volumeId, holder, expires = (now + duration).ToUnixTimeSeconds(), force = force ? 1 : 0, now = now.ToUnixTimeSeconds() });
        if (updated == 0) return null;
        return (await GetAsync<VolumeRow>(volumeId))?.LeaseEpoch;
    }

    /// <summary>Extends a lease still held at <paramref name="epoch"/>; false when it was taken over.</summary>
    public async Task<bool> RenewLeaseAsync(string volumeId, string holder, long epoch, TimeSpan duration, DateTimeOffset now) =>
        await ExecuteAsync("UPDATE volumes SET lease_expires = @expires WHERE id = @id AND lease_holder = @holder AND lease_epoch = @epoch",
            new { id = volumeId, holder, epoch, expires = (now + duration).ToUnixTimeSeconds() }) == 1;

    /// <summary>Gives up a lease still held at <paramref name="epoch"/> (the epoch stays, so the next holder goes past it).</summary>
    public Task ReleaseLeaseAsync(string volumeId, string holder, long epoch) =>
        ExecuteAsync("UPDATE volumes SET lease_holder = NULL, lease_expires = 0 WHERE id = @id AND lease_holder = @holder AND lease_epoch = @epoch",
            new { id = volumeId, holder, epoch });
}
