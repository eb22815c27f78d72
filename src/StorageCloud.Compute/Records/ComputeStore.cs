using StorageCloud.Service.Sql;

namespace StorageCloud.Compute.Records;

/// <summary>
/// One compute record (server, flavor, key pair, server group, instance action): its kind, owner and the record as
/// a JSON document. Nova's server view is wide and lists filter on many attributes, so the document is kept whole.
/// </summary>
public sealed class ComputeRow
{
    public string Id { get; set; } = "";
    public string Kind { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string Body { get; set; } = "{}";
}

/// <summary>A project's limit for one resource (id: project, a colon, resource).</summary>
public sealed class ComputeQuotaRow
{
    public string Id { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string Resource { get; set; } = "";
    public long HardLimit { get; set; }
}

/// <summary>The compute service's records in SQL (SQLite embedded, PostgreSQL for several API nodes).</summary>
public sealed class ComputeStore(SqlDatabase db) : SqlStore(db, Tables)
{
    private static readonly Dictionary<Type, string> Tables = new()
    {
        [typeof(ComputeRow)] = "records",
        [typeof(ComputeQuotaRow)] = "quotas",
    };

    /// <summary>The component name schema_versions records.</summary>
    public const string Component = "compute";

    /// <summary>The migrations, oldest first.</summary>
    public static readonly IReadOnlyList<SqlMigration> Migrations =
    [
        new(1,
        [
            "CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, kind TEXT NOT NULL, project_id TEXT NOT NULL, body TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS records_kind ON records (kind, project_id)",
            "CREATE TABLE IF NOT EXISTS quotas (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, resource TEXT NOT NULL, hard_limit BIGINT NOT NULL)",
        ]),
    ];
}
