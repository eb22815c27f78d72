namespace StorageCloud.Block.Volumes;

/// <summary>A snapshot: the frozen layer the volume held when it was taken (no data is copied).</summary>
public sealed class SnapshotRow
{
    public string Id { get; set; } = "";
    public string VolumeId { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string LayerId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    /// <summary>Bytes (the volume's size when taken).</summary>
    public long Size { get; set; }
    public string Status { get; set; } = "available";
    /// <summary>JSON object.</summary>
    public string Metadata { get; set; } = "{}";
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
    /// <summary>The progress a client reported with os-update_snapshot_status ("80%"); empty means from the status.</summary>
    public string Progress { get; set; } = "";
    /// <summary>The group snapshot this snapshot was taken for, or null.</summary>
    public string? GroupSnapshotId { get; set; }
}

/// <summary>A volume type: a name and extra specs (records only: every type stores on the same chunks).</summary>
public sealed class VolumeTypeRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public int IsPublic { get; set; } = 1;
    /// <summary>JSON object.</summary>
    public string ExtraSpecs { get; set; } = "{}";
    public string CreatedAt { get; set; } = "";
    /// <summary>The QoS specs associated with the type, or null.</summary>
    public string? QosSpecsId { get; set; }
}

/// <summary>A project allowed to use a private volume type (id: type id, a colon, project id).</summary>
public sealed class VolumeTypeAccessRow
{
    public string Id { get; set; } = "";
    public string VolumeTypeId { get; set; } = "";
    public string ProjectId { get; set; } = "";
}

/// <summary>QoS specs: a named set of limits for a consumer (records: the chunk store applies no per-volume limits yet).</summary>
public sealed class QosSpecsRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary>front-end, back-end or both.</summary>
    public string Consumer { get; set; } = "back-end";
    /// <summary>JSON object.</summary>
    public string Specs { get; set; } = "{}";
    public string CreatedAt { get; set; } = "";
}

/// <summary>A volume type's encryption (id: the type's id). Volumes of such a type are refused: nothing here would encrypt them.</summary>
public sealed class VolumeTypeEncryptionRow
{
    public string Id { get; set; } = "";
    public string EncryptionId { get; set; } = "";
    public string? Provider { get; set; }
    public string? Cipher { get; set; }
    public long? KeySize { get; set; }
    public string ControlLocation { get; set; } = "front-end";
    public string CreatedAt { get; set; } = "";
    public string? UpdatedAt { get; set; }
}

/// <summary>An operator's switch on one of the volume service's services (id: the binary, as cinder-volume).</summary>
public sealed class ServiceStateRow
{
    public string Id { get; set; } = "";
    public int Disabled { get; set; }
    public string? DisabledReason { get; set; }
    public int Frozen { get; set; }
    public string UpdatedAt { get; set; } = "";
}

/// <summary>A user message: why an operation the API accepted failed later (Cinder's /messages, 3.3+).</summary>
public sealed class UserMessageRow
{
    public string Id { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string ResourceType { get; set; } = "VOLUME";
    public string? ResourceUuid { get; set; }
    public string EventId { get; set; } = "";
    public string MessageLevel { get; set; } = "ERROR";
    public string UserMessage { get; set; } = "";
    public string RequestId { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string GuaranteedUntil { get; set; } = "";
}

/// <summary>A project's limit for one resource (volumes, gigabytes, snapshots, backups, backup_gigabytes); absent means the default.</summary>
public sealed class QuotaRow
{
    public string Id { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string Resource { get; set; } = "";
    public long HardLimit { get; set; }
}

/// <summary>A pending transfer of a volume to another project: the key is kept only as a salted hash.</summary>
public sealed class TransferRow
{
    public string Id { get; set; } = "";
    public string VolumeId { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Salt { get; set; } = "";
    public string KeyHash { get; set; } = "";
    public string CreatedAt { get; set; } = "";
}

/// <summary>A Cinder attachment of a volume to an instance (reserved, then given a connector, then complete).</summary>
public sealed class VolumeAttachmentRow
{
    public string Id { get; set; } = "";
    public string VolumeId { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string? InstanceUuid { get; set; }
    public string? AttachedHost { get; set; }
    public string? Mountpoint { get; set; }
    public string AttachMode { get; set; } = "rw";
    /// <summary>The connector the client gave, as JSON.</summary>
    public string? Connector { get; set; }
    /// <summary>reserved, attaching, attached, detached.</summary>
    public string Status { get; set; } = "reserved";
    public string? AttachTime { get; set; }
    public string? DetachTime { get; set; }
}

/// <summary>A group type: a name and group specs (records; groups of every type behave alike).</summary>
public sealed class GroupTypeRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public int IsPublic { get; set; } = 1;
    /// <summary>JSON object.</summary>
    public string GroupSpecs { get; set; } = "{}";
    public string CreatedAt { get; set; } = "";
}

/// <summary>A generic volume group: volumes of the listed types, snapshotted together and cloned together.</summary>
public sealed class GroupRow
{
    public string Id { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string GroupTypeId { get; set; } = "";
    /// <summary>JSON array of volume type ids.</summary>
    public string VolumeTypes { get; set; } = "[]";
    public string Status { get; set; } = "available";
    public string AvailabilityZone { get; set; } = "nova";
    public string? GroupSnapshotId { get; set; }
    public string? SourceGroupId { get; set; }
    public string CreatedAt { get; set; } = "";
}

/// <summary>A group snapshot: one snapshot of each of the group's volumes, taken together.</summary>
public sealed class GroupSnapshotRow
{
    public string Id { get; set; } = "";
    public string GroupId { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string GroupTypeId { get; set; } = "";
    public string Status { get; set; } = "available";
    public string CreatedAt { get; set; } = "";
}
