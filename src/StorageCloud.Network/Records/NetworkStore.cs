using StorageCloud.Service.Sql;

namespace StorageCloud.Network.Records;

/// <summary>
/// One Neutron resource (network, subnet, port, router, floating IP, security group or rule): its kind, owner and
/// the resource as Neutron shows it (a JSON object). Neutron's resources are wide and lists filter on any attribute,
/// so the document is kept whole and filtered in memory; what must be unique (an address in a subnet, a MAC on a
/// network) has a table of its own with a unique key.
/// </summary>
public sealed class ResourceRow
{
    public string Id { get; set; } = "";
    public string Kind { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string Body { get; set; } = "{}";
}

/// <summary>An address held in a subnet (id: subnet id, a space, the address), by a port.</summary>
public sealed class IpAllocationRow
{
    public string Id { get; set; } = "";
    public string SubnetId { get; set; } = "";
    public string NetworkId { get; set; } = "";
    public string PortId { get; set; } = "";
    public string Address { get; set; } = "";
}

/// <summary>A MAC address in use on a network (id: network id, a space, the MAC).</summary>
public sealed class MacRow
{
    public string Id { get; set; } = "";
    public string PortId { get; set; } = "";
}

/// <summary>A project's limit for one resource (id: project, a colon, resource).</summary>
public sealed class NetworkQuotaRow
{
    public string Id { get; set; } = "";
    public string ProjectId { get; set; } = "";
    public string Resource { get; set; } = "";
    public long HardLimit { get; set; }
}

/// <summary>The network service's records in SQL (SQLite embedded, PostgreSQL for several API nodes).</summary>
public sealed class NetworkStore(SqlDatabase db) : SqlStore(db, Tables)
{
    private static readonly Dictionary<Type, string> Tables = new()
    {
        [typeof(ResourceRow)] = "resources",
        [typeof(IpAllocationRow)] = "ip_allocations",
        [typeof(MacRow)] = "macs",
        [typeof(NetworkQuotaRow)] = "quotas",
    };

    /// <summary>The component name schema_versions records.</summary>
    public const string Component = "network";

    /// <summary>The migrations, oldest first.</summary>
    public static readonly IReadOnlyList<SqlMigration> Migrations =
    [
        new(1,
        [
            "CREATE TABLE IF NOT EXISTS resources (id TEXT PRIMARY KEY, kind TEXT NOT NULL, project_id TEXT NOT NULL, body TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS resources_kind ON resources (kind, project_id)",
            "CREATE TABLE IF NOT EXISTS ip_allocations (id TEXT PRIMARY KEY, subnet_id TEXT NOT NULL, network_id TEXT NOT NULL, port_id TEXT NOT NULL, address TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS ip_allocations_port ON ip_allocations (port_id)",
            "CREATE TABLE IF NOT EXISTS macs (id TEXT PRIMARY KEY, port_id TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS quotas (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, resource TEXT NOT NULL, hard_limit BIGINT NOT NULL)",
        ]),
    ];
}
