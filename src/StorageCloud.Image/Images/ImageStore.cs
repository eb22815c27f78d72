using StorageCloud.Service.Sql;

namespace StorageCloud.Image.Images;

/// <summary>An image's record; its data is an object (a static large object) in the images account.</summary>
public sealed class ImageRow
{
    public string Id { get; set; } = "";
    public string? Name { get; set; }
    /// <summary>queued, saving, uploading, importing, active, deactivated, killed (deleted rows are removed).</summary>
    public string Status { get; set; } = "queued";
    /// <summary>public, private, shared, community.</summary>
    public string Visibility { get; set; } = "shared";
    public int Protected { get; set; }
    public int OsHidden { get; set; }
    public string Owner { get; set; } = "";
    public string? DiskFormat { get; set; }
    public string? ContainerFormat { get; set; }
    public long? Size { get; set; }
    public long? VirtualSize { get; set; }
    /// <summary>MD5 of the data (hex).</summary>
    public string? Checksum { get; set; }
    public string? OsHashAlgo { get; set; }
    public string? OsHashValue { get; set; }
    public long MinDisk { get; set; }
    public long MinRam { get; set; }
    /// <summary>Additional properties: a JSON object of strings.</summary>
    public string Properties { get; set; } = "{}";
    /// <summary>A JSON array of strings.</summary>
    public string Tags { get; set; } = "[]";
    /// <summary>"container/object" of the data in the images account, when there is data.</summary>
    public string? Location { get; set; }
    /// <summary>What the inspector found in staged data (format), and why it refused it (problem), for the import to judge.</summary>
    public string? StagedFormat { get; set; }
    public string? StagedProblem { get; set; }
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
}

/// <summary>A project an image is shared with (id: image id, a colon, member id).</summary>
public sealed class ImageMemberRow
{
    public string Id { get; set; } = "";
    public string ImageId { get; set; } = "";
    public string MemberId { get; set; } = "";
    /// <summary>pending, accepted, rejected.</summary>
    public string Status { get; set; } = "pending";
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
}

/// <summary>
/// An import's task (Glance's api_image_import tasks, shown at /v2/images/{id}/tasks): pending, processing, then
/// success or failure. A worker touches updated_at while it runs, so one whose process stopped can be told apart.
/// </summary>
public sealed class ImageTaskRow
{
    public string Id { get; set; } = "";
    public string ImageId { get; set; } = "";
    public string Owner { get; set; } = "";
    public string UserId { get; set; } = "";
    public string RequestId { get; set; } = "";
    /// <summary>pending, processing, success, failure.</summary>
    public string Status { get; set; } = "pending";
    /// <summary>The import request (JSON).</summary>
    public string Input { get; set; } = "{}";
    public string Message { get; set; } = "";
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
}

/// <summary>
/// A metadata definitions namespace (Glance's metadefs): its attributes, and its resource type associations, objects,
/// properties and tags kept together as one JSON document (they are small and always read with the namespace).
/// </summary>
public sealed class MetadefNamespaceRow
{
    /// <summary>The namespace's name (it is the key, and may be renamed).</summary>
    public string Id { get; set; } = "";
    public string? DisplayName { get; set; }
    public string? Description { get; set; }
    public string Visibility { get; set; } = "private";
    public int Protected { get; set; }
    public string Owner { get; set; } = "";
    /// <summary>{"resource_type_associations": [...], "objects": {...}, "properties": {...}, "tags": {...}}.</summary>
    public string Content { get; set; } = "{}";
    public string CreatedAt { get; set; } = "";
    public string UpdatedAt { get; set; } = "";
}

/// <summary>The image service's metadata in SQL (SQLite embedded, PostgreSQL for several API nodes).</summary>
public sealed class ImageStore(SqlDatabase db) : SqlStore(db, Tables)
{
    private static readonly Dictionary<Type, string> Tables = new()
    {
        [typeof(ImageRow)] = "images",
        [typeof(ImageMemberRow)] = "image_members",
        [typeof(MetadefNamespaceRow)] = "metadef_namespaces",
        [typeof(ImageTaskRow)] = "image_tasks",
    };

    /// <summary>The component name schema_versions records.</summary>
    public const string Component = "image";

    /// <summary>The migrations, oldest first.</summary>
    public static readonly IReadOnlyList<SqlMigration> Migrations =
    [
        new(1,
        [
            """
            CREATE TABLE IF NOT EXISTS images (id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, visibility TEXT NOT NULL,
                protected INTEGER NOT NULL, os_hidden INTEGER NOT NULL, owner TEXT NOT NULL, disk_format TEXT, container_format TEXT,
                size BIGINT, virtual_size BIGINT, checksum TEXT, os_hash_algo TEXT, os_hash_value TEXT, min_disk BIGINT NOT NULL,
                min_ram BIGINT NOT NULL, properties TEXT NOT NULL, tags TEXT NOT NULL, location TEXT, staged_format TEXT,
                staged_problem TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS images_owner ON images (owner)",
            """
            CREATE TABLE IF NOT EXISTS image_members (id TEXT PRIMARY KEY, image_id TEXT NOT NULL, member_id TEXT NOT NULL, status TEXT NOT NULL,
                created_at TEXT NOT NULL, updated_at TEXT NOT NULL)
            """,
        ]),
        new(2,
        [
            """
            CREATE TABLE IF NOT EXISTS metadef_namespaces (id TEXT PRIMARY KEY, display_name TEXT, description TEXT, visibility TEXT NOT NULL,
                protected INTEGER NOT NULL, owner TEXT NOT NULL, content TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)
            """,
        ]),
        new(3,
        [
            """
            CREATE TABLE IF NOT EXISTS image_tasks (id TEXT PRIMARY KEY, image_id TEXT NOT NULL, owner TEXT NOT NULL, user_id TEXT NOT NULL,
                request_id TEXT NOT NULL, status TEXT NOT NULL, input TEXT NOT NULL, message TEXT NOT NULL, created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS image_tasks_image ON image_tasks (image_id)",
        ]),
    ];

    /// <summary>Bytes of image data the project owns (stored and staged).</summary>
    public async Task<long> BytesOfAsync(string project) =>
        (await QueryAsync<long?>("SELECT SUM(size) FROM images WHERE owner = @project", new { project })).FirstOrDefault() ?? 0;

    /// <summary>Tasks still processing whose worker has not touched them since <paramref name="before"/>.</summary>
    public Task<List<ImageTaskRow>> StalledTasksAsync(string before) =>
        QueryAsync<ImageTaskRow>("SELECT * FROM image_tasks WHERE status IN ('pending', 'processing') AND updated_at < @before", new { before });

    /// <summary>Moves an image from one status to another only if it is still in the first; false when it was not.</summary>
    public async Task<bool> TransitionAsync(string id, string from, string to, string now) =>
        await ExecuteAsync("UPDATE images SET status = @to, updated_at = @now WHERE id = @id AND status = @from", new { id, from, to, now }) == 1;
}
