namespace StorageCloud.Block.Backups;

/// <summary>A volume backup's row (Cinder's backup record, and where its manifest lies).</summary>
public sealed class BackupRow
{
    public string Id { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string VolumeId { get; set; } = "";
    public string? SnapshotId { get; set; }
    /// <summary>The backup this one is an increment of, or null.</summary>
    public string? ParentId { get; set; }
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    /// <summary>The object-store account holding the backup's objects (the owning project's).</summary>
    public string Account { get; set; } = "";
    public string Container { get; set; } = "";
    /// <summary>The manifest object's name in the container ("" until written).</summary>
    public string Manifest { get; set; } = "";
    public string Status { get; set; } = "creating";
    public string? FailReason { get; set; }
    /// <summary>The volume's size in bytes.</summary>
    public long Size { get; set; }
    /// <summary>Objects the backup wrote (packs and its manifest).</summary>
    public long ObjectCount { get; set; }
    /// <summary>Bytes the backup added to the container (new blocks, compressed, and its manifest).</summary>
    public long StoredBytes { get; set; }
    /// <summary>Percent done of the running creation or restore.</summary>
    public int Progress { get; set; }
    /// <summary>The gateway running the creation or restore (so a restarted gateway recovers only its own).</summary>
    public string Host { get; set; } = "";
    /// <summary>The volume's status before the backup or restore began, given back afterwards.</summary>
    public string? VolumePreviousStatus { get; set; }
    /// <summary>The volume a running restore writes.</summary>
    public string? RestoreVolumeId { get; set; }
    public string Metadata { get; set; } = "{}";
    public string AvailabilityZone { get; set; } = "nova";
    public string DataTimestamp { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
}

/// <summary>A stored block record: where the block with this digest lies (the same digest may lie in more than one pack).</summary>
public sealed class BackupBlockRow
{
    /// <summary>"&lt;pack&gt;@&lt;position&gt;".</summary>
    public string Id { get; set; } = "";
    public string Account { get; set; } = "";
    public string Container { get; set; } = "";
    public string Digest { get; set; } = "";
    public string Pack { get; set; } = "";
    public long Position { get; set; }
    public int Length { get; set; }
}

/// <summary>That a backup uses a block (by digest): what garbage collection counts.</summary>
public sealed class BackupRefRow
{
    /// <summary>"&lt;backup&gt;:&lt;digest&gt;".</summary>
    public string Id { get; set; } = "";
    public string BackupId { get; set; } = "";
    public string Account { get; set; } = "";
    public string Digest { get; set; } = "";
}

/// <summary>A pack object: "writing" until its block rows are in, then "live", "dead" once no backup uses any of its blocks.</summary>
public sealed class BackupPackRow
{
    /// <summary>The pack object's name.</summary>
    public string Id { get; set; } = "";
    public string Account { get; set; } = "";
    public string Container { get; set; } = "";
    public string BackupId { get; set; } = "";
    public string State { get; set; } = "writing";
    public long Bytes { get; set; }
    public string CreatedAt { get; set; } = "";
}
